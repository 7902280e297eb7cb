-- Router queries: the distribution column is pinned to one value (or a
-- few), so the whole statement can go to one shard (or a pruned set).

-- router: dist col = const, whole row
-- @ordered
SELECT * FROM orders WHERE o_orderkey = 33 ORDER BY o_orderkey;

-- router: dist col = const on lineitem, all lines of one order
-- @ordered
SELECT l_orderkey, l_linenumber, l_quantity, l_extendedprice FROM lineitem WHERE l_orderkey = 1 ORDER BY l_linenumber;

-- router: const = dist col (reversed operands)
SELECT o_orderkey, o_custkey, o_totalprice FROM orders WHERE 65 = o_orderkey;

-- router: dist col = const that matches no row
-- @empty
SELECT * FROM orders WHERE o_orderkey = 9;

-- router: dist col IN list (pruned multi-shard)
-- @ordered
SELECT o_orderkey, o_orderdate FROM orders WHERE o_orderkey IN (1, 2, 3, 33, 34, 97) ORDER BY o_orderkey;

-- router: dist col = const OR dist col = const
SELECT o_orderkey, o_orderstatus FROM orders WHERE o_orderkey = 4 OR o_orderkey = 100;

-- router: dist col = const AND another filter
SELECT l_linenumber, l_shipmode FROM lineitem WHERE l_orderkey = 3 AND l_quantity > 10;

-- router: aggregate on one shard
SELECT count(*), sum(l_extendedprice), avg(l_discount) FROM lineitem WHERE l_orderkey = 5;

-- router: group by on one shard
-- @ordered
SELECT l_returnflag, count(*) FROM lineitem WHERE l_orderkey = 6 GROUP BY l_returnflag ORDER BY l_returnflag;

-- router: co-located join pinned to one order
-- @ordered
SELECT o.o_orderkey, l.l_linenumber, l.l_partkey FROM orders o JOIN lineitem l ON l.l_orderkey = o.o_orderkey WHERE o.o_orderkey = 7 ORDER BY l.l_linenumber;

-- router: co-located join pinned through the other table's dist col
SELECT o.o_orderdate, count(*) FROM orders o JOIN lineitem l ON l.l_orderkey = o.o_orderkey WHERE l.l_orderkey = 8 GROUP BY o.o_orderdate;

-- router: join with a reference table on one shard
SELECT c.c_name, n.n_name FROM customer c JOIN nation n ON n.n_nationkey = c.c_nationkey WHERE c.c_custkey = 10;

-- router: window function on one shard
-- @ordered
SELECT l_linenumber, l_quantity, sum(l_quantity) OVER (ORDER BY l_linenumber) FROM lineitem WHERE l_orderkey = 33 ORDER BY l_linenumber;

-- router: CTE pinned to one shard
WITH o AS (SELECT * FROM orders WHERE o_orderkey = 34)
SELECT o_orderkey, o_totalprice FROM o;

-- router: subquery in WHERE, same shard
SELECT l_linenumber FROM lineitem WHERE l_orderkey = 35 AND l_quantity > (SELECT avg(l_quantity) FROM lineitem WHERE l_orderkey = 35);

-- router: text dist col = const
-- @ordered
SELECT tag, seq, label FROM tag_events WHERE tag = 'alpha' ORDER BY seq;

-- router: text dist col = empty string
-- @ordered
SELECT tag, seq, note FROM tag_events WHERE tag = '' ORDER BY seq;

-- router: text dist col = unicode
SELECT count(*) FROM tag_events WHERE tag = 'ünïcödé';

-- router: text dist col IN with case variants
SELECT tag, count(*) FROM tag_events WHERE tag IN ('alpha', 'Alpha', 'ALPHA') GROUP BY tag;

-- router: uuid dist col = const
SELECT device_id, kind, reading FROM devices WHERE device_id = '00000000-0000-0000-0000-000000000000';

-- router: uuid dist col = max uuid
SELECT device_id, owner FROM devices WHERE device_id = 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid;

-- router: bigint dist col = min bigint
SELECT id, i8, txt FROM sparse WHERE id = -9223372036854775808;

-- router: bigint dist col = max bigint, IN with 0
SELECT id FROM sparse WHERE id IN (9223372036854775807, 0, -1);

-- router: dist col = const with a cast from text
SELECT o_orderkey FROM orders WHERE o_orderkey = '66'::int;

-- router: dist col = const with an int8 literal against int4
SELECT o_orderkey, o_custkey FROM orders WHERE o_orderkey = 67::bigint;

-- router: customer by key, reference join and local-looking expressions
SELECT c_custkey, upper(c_name), c_acctbal * 2 FROM customer WHERE c_custkey = 1;

-- router: dist col = const, DISTINCT on one shard
SELECT DISTINCT l_shipmode FROM lineitem WHERE l_orderkey = 98;

-- router: ORDER BY LIMIT on one shard
-- @ordered
SELECT l_linenumber, l_extendedprice FROM lineitem WHERE l_orderkey = 99 ORDER BY l_extendedprice DESC, l_linenumber LIMIT 2;

-- router: dist col = const in both sides of a co-located join
SELECT count(*) FROM orders o JOIN lineitem l ON o.o_orderkey = l.l_orderkey WHERE o.o_orderkey = 100 AND l.l_orderkey = 100;

-- router: contradiction on the dist col (no shard)
-- @empty
SELECT * FROM orders WHERE o_orderkey = 1 AND o_orderkey = 2;

-- router: partsupp pinned by part key
-- @ordered
SELECT ps_suppkey, ps_availqty FROM partsupp WHERE ps_partkey = 17 ORDER BY ps_suppkey;

-- router: supplier by key
SELECT s_name, s_acctbal FROM supplier WHERE s_suppkey = 12;
