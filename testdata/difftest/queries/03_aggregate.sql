-- Aggregates over all shards without GROUP BY: each one split into a
-- per-shard partial and a final combine (or pulled), and the same answer
-- as one PostgreSQL.

-- aggregate: count(*)
SELECT count(*) FROM lineitem;

-- aggregate: count(col) skips NULLs
SELECT count(o_comment), count(*) FROM orders;

-- aggregate: sum of numeric
SELECT sum(l_extendedprice) FROM lineitem;

-- aggregate: sum of integer gives bigint
SELECT sum(ps_availqty) FROM partsupp;

-- aggregate: avg of numeric (scale of the result)
SELECT avg(l_quantity), avg(l_discount) FROM lineitem;

-- aggregate: avg of integer
SELECT avg(p_size) FROM part;

-- aggregate: min and max of several types
SELECT min(o_orderdate), max(o_orderdate), min(o_totalprice), max(o_totalprice), min(o_clerk), max(o_clerk) FROM orders;

-- aggregate: min and max of text with unicode
SELECT min(tag), max(tag), min(label), max(label) FROM tag_events;

-- aggregate: bool_and and bool_or with NULLs
SELECT bool_and(flag), bool_or(flag), every(flag) FROM tag_events;

-- aggregate: bool_and over a filter
SELECT bool_and(l_quantity > 0), bool_or(l_quantity > 49) FROM lineitem;

-- aggregate: bit_and and bit_or
SELECT bit_and(p_size), bit_or(p_size), bit_xor(p_size) FROM part;

-- aggregate: bit_and and bit_or of bigint with NULLs
SELECT bit_and(i8), bit_or(i8) FROM sparse WHERE i8 > 0;

-- aggregate: array_agg with ORDER BY inside
SELECT array_agg(n_name ORDER BY n_name) FROM nation;

-- aggregate: array_agg of a distributed column with a total ORDER BY
SELECT array_agg(s_suppkey ORDER BY s_suppkey) FROM supplier WHERE s_acctbal > 5000;

-- aggregate: array_agg DESC with NULLs ordered
SELECT array_agg(amount ORDER BY amount DESC NULLS LAST, tag, seq) FROM tag_events WHERE tag LIKE 't00%';

-- aggregate: string_agg with ORDER BY
SELECT string_agg(c_name, ',' ORDER BY c_custkey) FROM customer WHERE c_custkey < 30;

-- aggregate: string_agg of text with unicode and NULLs
SELECT string_agg(label, '|' ORDER BY tag, seq) FROM tag_events WHERE seq = 1;

-- aggregate: json_agg with ORDER BY
SELECT json_agg(o_orderkey ORDER BY o_orderkey) FROM orders WHERE o_totalprice > 280000;

-- aggregate: jsonb_agg of rows with ORDER BY
SELECT jsonb_agg(jsonb_build_object('k', s_suppkey, 'n', s_nationkey) ORDER BY s_suppkey) FROM supplier WHERE s_suppkey <= 10;

-- aggregate: json_object_agg
SELECT json_object_agg(s_name, s_acctbal ORDER BY s_suppkey) FROM supplier WHERE s_suppkey <= 5;

-- aggregate: count(DISTINCT) on a non-distribution column
SELECT count(DISTINCT o_custkey) FROM orders;

-- aggregate: count(DISTINCT) on the distribution column
SELECT count(DISTINCT l_orderkey) FROM lineitem;

-- aggregate: several count(DISTINCT) at once
SELECT count(DISTINCT l_partkey), count(DISTINCT l_suppkey), count(DISTINCT l_shipmode) FROM lineitem;

-- aggregate: sum(DISTINCT) and avg(DISTINCT)
SELECT sum(DISTINCT l_quantity), avg(DISTINCT l_quantity) FROM lineitem;

-- aggregate: FILTER clause
SELECT count(*) FILTER (WHERE l_returnflag = 'R'), sum(l_quantity) FILTER (WHERE l_shipmode = 'AIR') FROM lineitem;

-- aggregate: aggregate of an expression
SELECT sum(l_extendedprice * (1 - l_discount)), max(l_receiptdate - l_shipdate) FROM lineitem;

-- aggregate: expression of aggregates
SELECT sum(l_extendedprice) / count(*), max(l_quantity) - min(l_quantity) FROM lineitem;

-- aggregate: over an empty set (one row of NULLs and 0)
SELECT count(*), sum(l_quantity), avg(l_quantity), min(l_shipdate), bool_and(true), array_agg(l_orderkey ORDER BY l_orderkey), string_agg(l_comment, ',') FROM lineitem WHERE l_quantity > 1000;

-- aggregate: stddev and variance of numeric
SELECT round(stddev(l_quantity), 10), round(variance(l_quantity), 10), round(stddev_pop(l_discount), 10), round(var_samp(l_tax), 10) FROM lineitem;

-- aggregate: float aggregates of exactly representable values
SELECT sum(reading), min(reading), max(reading), count(reading) FROM devices WHERE abs(reading) BETWEEN 1e-3 AND 1e6;

-- aggregate: float sum with NaN and Infinity present
SELECT sum(f8), max(f8), min(f8) FROM sparse;

-- aggregate: numeric sum with NaN
SELECT sum(num), min(num), max(num) FROM sparse;

-- aggregate: mode and percentile (ordered-set aggregates)
SELECT mode() WITHIN GROUP (ORDER BY l_shipmode), percentile_disc(0.5) WITHIN GROUP (ORDER BY l_quantity) FROM lineitem;

-- aggregate: percentile_cont
SELECT percentile_cont(0.25) WITHIN GROUP (ORDER BY p_size) FROM part;

-- aggregate: count of a join result
SELECT count(*) FROM orders o JOIN lineitem l ON l.l_orderkey = o.o_orderkey;

-- aggregate: sum over a bigint with extremes (numeric result)
SELECT sum(i8), count(i8) FROM sparse;

-- aggregate: min and max of timestamps with infinity
SELECT min(ts), max(ts), min(d), max(d) FROM sparse;

-- aggregate: avg of integers with extremes
SELECT avg(i4), sum(i4), sum(i2), avg(i2) FROM sparse;

-- aggregate: count(*) on every distributed table
SELECT (SELECT count(*) FROM orders), (SELECT count(*) FROM customer), (SELECT count(*) FROM part), (SELECT count(*) FROM partsupp), (SELECT count(*) FROM supplier), (SELECT count(*) FROM tag_events), (SELECT count(*) FROM devices), (SELECT count(*) FROM sparse);

-- aggregate: xmlagg-free text concatenation of uuids
SELECT string_agg(device_id::text, ' ' ORDER BY device_id) FROM devices WHERE kind = 'camera' AND owner < 100;

-- aggregate: array_agg DISTINCT
SELECT array_agg(DISTINCT l_shipmode ORDER BY l_shipmode) FROM lineitem;

-- aggregate: HAVING without GROUP BY
SELECT count(*) FROM orders HAVING count(*) > 10;

-- aggregate: HAVING without GROUP BY that removes the row
-- @empty
SELECT sum(o_totalprice) FROM orders HAVING count(*) > 1000000;
