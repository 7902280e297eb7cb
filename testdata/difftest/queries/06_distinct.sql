-- DISTINCT and DISTINCT ON across shards.

-- distinct: one non-distribution column
SELECT DISTINCT l_shipmode FROM lineitem;

-- distinct: several columns
SELECT DISTINCT l_returnflag, l_linestatus FROM lineitem;

-- distinct: the distribution column
SELECT DISTINCT l_orderkey FROM lineitem WHERE l_quantity > 45;

-- distinct: with NULLs (one NULL row)
SELECT DISTINCT flag FROM tag_events;

-- distinct: text values differing only by case or unicode normalisation
SELECT DISTINCT txt FROM sparse;

-- distinct: float values (NaN equals NaN)
SELECT DISTINCT f8 FROM sparse;

-- distinct: numeric values with NaN and infinities
SELECT DISTINCT num FROM sparse WHERE num IS NULL OR num = 'NaN' OR abs(num) > 998;

-- distinct: on an expression
SELECT DISTINCT extract(year FROM o_orderdate) FROM orders;

-- distinct: with ORDER BY and LIMIT
-- @ordered
SELECT DISTINCT o_custkey FROM orders ORDER BY o_custkey LIMIT 20;

-- distinct: count of distinct pairs
SELECT count(*) FROM (SELECT DISTINCT l_partkey, l_suppkey FROM lineitem) d;

-- distinct on: the first order of each customer
-- @ordered
SELECT DISTINCT ON (o_custkey) o_custkey, o_orderkey, o_orderdate FROM orders ORDER BY o_custkey, o_orderdate, o_orderkey;

-- distinct on: the most expensive line of each order (distribution column)
-- @ordered
SELECT DISTINCT ON (l_orderkey) l_orderkey, l_linenumber, l_extendedprice FROM lineitem ORDER BY l_orderkey, l_extendedprice DESC, l_linenumber;

-- distinct on: a non-distribution column, LIMIT
-- @ordered
SELECT DISTINCT ON (l_shipmode) l_shipmode, l_orderkey, l_linenumber FROM lineitem ORDER BY l_shipmode, l_quantity DESC, l_orderkey, l_linenumber LIMIT 4;

-- distinct on: by a nullable column
-- @ordered
SELECT DISTINCT ON (label) label, tag, seq FROM tag_events ORDER BY label, tag, seq;

-- distinct on: by two columns
-- @ordered
SELECT DISTINCT ON (l_returnflag, l_linestatus) l_returnflag, l_linestatus, l_orderkey, l_linenumber FROM lineitem ORDER BY l_returnflag, l_linestatus, l_shipdate, l_orderkey, l_linenumber;

-- distinct: in a join
SELECT DISTINCT n.n_name FROM customer c JOIN nation n ON n.n_nationkey = c.c_nationkey WHERE c.c_acctbal > 9000;

-- distinct: on a uuid column of rows with an owner
SELECT DISTINCT owner FROM devices WHERE owner < 40;

-- distinct: aggregate over DISTINCT subquery
SELECT avg(c) FROM (SELECT DISTINCT o_custkey AS c FROM orders) s;

-- distinct: jsonb values
SELECT DISTINCT meta FROM devices WHERE meta->>'zone' = '1';

-- distinct: arrays
SELECT DISTINCT tags FROM devices;
