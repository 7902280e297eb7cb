-- Joins and unions with segment_info, a local table of the metadata
-- database that is not distributed.

-- local: the local table alone
SELECT * FROM segment_info;

-- local: customer join the local table
SELECT c.c_custkey, s.weight FROM customer c JOIN segment_info s ON s.segment = c.c_mktsegment WHERE c.c_acctbal > 9000;

-- local: aggregate per segment with the local table's weight
SELECT s.segment, s.weight, count(c.c_custkey) FROM segment_info s LEFT JOIN customer c ON c.c_mktsegment = s.segment GROUP BY s.segment, s.weight;

-- local: distributed left join local (BUILDING has no info)
SELECT c.c_mktsegment, s.description, count(*) FROM customer c LEFT JOIN segment_info s ON s.segment = c.c_mktsegment GROUP BY c.c_mktsegment, s.description;

-- local: full join local and distributed aggregates
SELECT coalesce(s.segment, a.seg) AS seg, s.weight, a.n FROM segment_info s FULL JOIN (SELECT c_mktsegment AS seg, count(*) AS n FROM customer GROUP BY 1) a ON a.seg = s.segment;

-- local: semi join into the local table
SELECT count(*) FROM customer WHERE c_mktsegment IN (SELECT segment FROM segment_info WHERE weight >= 30);

-- local: anti join into the local table
SELECT count(*) FROM customer c WHERE NOT EXISTS (SELECT 1 FROM segment_info s WHERE s.segment = c.c_mktsegment);

-- local: three-way join orders, customer, local table
SELECT s.segment, sum(o.o_totalprice * s.weight) FROM orders o JOIN customer c ON c.c_custkey = o.o_custkey JOIN segment_info s ON s.segment = c.c_mktsegment GROUP BY s.segment;

-- local: scalar subquery on the local table
SELECT c_custkey FROM customer WHERE c_mktsegment = (SELECT segment FROM segment_info WHERE weight = 10) AND c_acctbal > 9000;

-- local: local table with a reference table (cross join, filtered)
SELECT s.segment, r.r_name FROM segment_info s CROSS JOIN region r WHERE s.weight = 20;

-- local: ORDER BY LIMIT over a join with the local table
-- @ordered
SELECT c.c_custkey, s.weight FROM customer c JOIN segment_info s ON s.segment = c.c_mktsegment ORDER BY s.weight DESC, c.c_custkey LIMIT 10;

-- local: local table in a CTE joined with a distributed table
WITH w AS (SELECT segment, weight FROM segment_info WHERE description IS NOT NULL)
SELECT w.segment, count(*) FROM w JOIN customer c ON c.c_mktsegment = w.segment GROUP BY w.segment;
