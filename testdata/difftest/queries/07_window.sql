-- Window functions: partitioned by the distribution column (pushed down)
-- and not (computed on the coordinator). Inner orders are total.

-- window: row_number partitioned by the distribution column
SELECT l_orderkey, l_linenumber, row_number() OVER (PARTITION BY l_orderkey ORDER BY l_extendedprice DESC, l_linenumber) FROM lineitem;

-- window: sum over the partition of the distribution column
SELECT l_orderkey, l_linenumber, sum(l_quantity) OVER (PARTITION BY l_orderkey) FROM lineitem;

-- window: running total within an order
SELECT l_orderkey, l_linenumber, sum(l_extendedprice) OVER (PARTITION BY l_orderkey ORDER BY l_linenumber) FROM lineitem WHERE l_orderkey < 500;

-- window: rank partitioned by a non-distribution column
SELECT o_orderkey, o_custkey, rank() OVER (PARTITION BY o_custkey ORDER BY o_totalprice DESC) FROM orders;

-- window: dense_rank over the whole table
SELECT p_partkey, dense_rank() OVER (ORDER BY p_size) FROM part;

-- window: row_number over the whole table with a total order
SELECT o_orderkey, row_number() OVER (ORDER BY o_orderdate, o_orderkey) FROM orders;

-- window: lag and lead within a customer
SELECT o_orderkey, lag(o_orderkey) OVER w, lead(o_totalprice, 2) OVER w FROM orders WINDOW w AS (PARTITION BY o_custkey ORDER BY o_orderdate, o_orderkey);

-- window: first_value, last_value with a full frame
SELECT o_orderkey, first_value(o_orderkey) OVER w, last_value(o_orderkey) OVER w FROM orders WINDOW w AS (PARTITION BY o_orderpriority ORDER BY o_orderkey ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING);

-- window: ntile over the whole table
SELECT s_suppkey, ntile(4) OVER (ORDER BY s_acctbal, s_suppkey) FROM supplier;

-- window: moving average with a ROWS frame
SELECT o_orderkey, avg(o_totalprice) OVER (ORDER BY o_orderkey ROWS BETWEEN 2 PRECEDING AND 2 FOLLOWING) FROM orders WHERE o_orderkey < 1000;

-- window: RANGE frame over dates
SELECT o_orderkey, count(*) OVER (ORDER BY o_orderdate RANGE BETWEEN INTERVAL '3 days' PRECEDING AND CURRENT ROW) FROM orders WHERE o_orderdate < DATE '1992-04-01';

-- window: percent_rank and cume_dist
SELECT c_custkey, percent_rank() OVER (PARTITION BY c_mktsegment ORDER BY c_acctbal, c_custkey), cume_dist() OVER (PARTITION BY c_mktsegment ORDER BY c_acctbal, c_custkey) FROM customer;

-- window: count(*) over () on every row
SELECT s_suppkey, count(*) OVER () FROM supplier;

-- window: window over an aggregate grouped by the distribution column
SELECT l_orderkey, sum(l_quantity), rank() OVER (ORDER BY sum(l_quantity) DESC, l_orderkey) FROM lineitem GROUP BY l_orderkey;

-- window: window over an aggregate grouped by a non-distribution column
SELECT l_shipmode, count(*), sum(count(*)) OVER () FROM lineitem GROUP BY l_shipmode;

-- window: top 2 lines per order via a subquery
SELECT l_orderkey, l_linenumber FROM (SELECT l_orderkey, l_linenumber, row_number() OVER (PARTITION BY l_orderkey ORDER BY l_quantity DESC, l_linenumber) AS rn FROM lineitem) s WHERE rn <= 2;

-- window: top customer per nation (partition not on the distribution column)
SELECT c_nationkey, c_custkey FROM (SELECT c_nationkey, c_custkey, row_number() OVER (PARTITION BY c_nationkey ORDER BY c_acctbal DESC, c_custkey) AS rn FROM customer) s WHERE rn = 1;

-- window: partition by the text distribution column
SELECT tag, seq, sum(amount) OVER (PARTITION BY tag ORDER BY seq) FROM tag_events;

-- window: partition by a nullable column
SELECT tag, seq, count(*) OVER (PARTITION BY label) FROM tag_events;

-- window: window with ORDER BY and LIMIT on the outer query
-- @ordered
SELECT o_orderkey, row_number() OVER (ORDER BY o_totalprice DESC, o_orderkey) AS rn FROM orders ORDER BY rn LIMIT 10;

-- window: array_agg as a window aggregate
SELECT l_orderkey, l_linenumber, array_agg(l_linenumber) OVER (PARTITION BY l_orderkey ORDER BY l_linenumber) FROM lineitem WHERE l_orderkey < 100;

-- window: partition by the distribution column and another column
SELECT l_orderkey, l_returnflag, count(*) OVER (PARTITION BY l_orderkey, l_returnflag) FROM lineitem WHERE l_orderkey < 300;

-- window: window in a join of co-located tables
SELECT o.o_orderkey, l.l_linenumber, sum(l.l_quantity) OVER (PARTITION BY o.o_orderkey) FROM orders o JOIN lineitem l ON l.l_orderkey = o.o_orderkey WHERE o.o_orderdate < DATE '1992-02-01';

-- window: nth_value with a frame
SELECT p_partkey, nth_value(p_partkey, 2) OVER (PARTITION BY p_brand ORDER BY p_partkey ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) FROM part;

-- window: FILTER in a window aggregate
SELECT o_orderkey, count(*) FILTER (WHERE o_orderstatus = 'F') OVER (PARTITION BY o_custkey) FROM orders;
