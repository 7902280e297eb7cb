-- VALUES lists and LATERAL subqueries and functions.

-- values: a bare VALUES list
VALUES (1, 'a'), (2, 'b'), (3, NULL);

-- values: VALUES joined with a distributed table on its distribution column
SELECT v.k, o.o_totalprice FROM (VALUES (1), (2), (33), (9)) v(k) JOIN orders o ON o.o_orderkey = v.k;

-- values: VALUES joined on a non-distribution column
SELECT v.seg, count(*) FROM (VALUES ('BUILDING'), ('MACHINERY'), ('NOPE')) v(seg) JOIN customer c ON c.c_mktsegment = v.seg GROUP BY v.seg;

-- values: VALUES LEFT JOIN distributed table
SELECT v.k, count(l.l_linenumber) FROM (VALUES (1), (9), (65)) v(k) LEFT JOIN lineitem l ON l.l_orderkey = v.k GROUP BY v.k;

-- values: IN with a VALUES subquery
SELECT count(*) FROM lineitem WHERE l_shipmode IN (VALUES ('AIR'), ('MAIL'));

-- values: VALUES with text and uuid keys joined with the text and uuid tables
SELECT v.t, count(e.seq) FROM (VALUES ('alpha'), (''), ('日本語'), ('none')) v(t) LEFT JOIN tag_events e ON e.tag = v.t GROUP BY v.t;

-- lateral: top 2 orders per customer (LATERAL with ORDER BY LIMIT)
SELECT c.c_custkey, t.o_orderkey FROM customer c CROSS JOIN LATERAL (SELECT o_orderkey FROM orders o WHERE o.o_custkey = c.c_custkey ORDER BY o.o_totalprice DESC, o.o_orderkey LIMIT 2) t WHERE c.c_custkey < 80;

-- lateral: co-located LATERAL on the distribution column
SELECT o.o_orderkey, x.maxq FROM orders o, LATERAL (SELECT max(l_quantity) AS maxq FROM lineitem l WHERE l.l_orderkey = o.o_orderkey) x WHERE o.o_orderdate < DATE '1992-02-15';

-- lateral: LEFT JOIN LATERAL keeps rows without a match
SELECT c.c_custkey, t.n FROM customer c LEFT JOIN LATERAL (SELECT count(*) AS n, max(o_orderdate) AS d FROM orders o WHERE o.o_custkey = c.c_custkey HAVING count(*) > 0) t ON true WHERE c.c_custkey < 40;

-- lateral: unnest of an array column
SELECT d.device_id, t.tag FROM devices d, LATERAL unnest(d.tags) AS t(tag) WHERE d.kind = 'meter';

-- lateral: generate_series driven by a column
SELECT p.p_partkey, g FROM part p, LATERAL generate_series(1, p.p_size % 4) g WHERE p.p_partkey < 40;

-- lateral: jsonb_each over a jsonb column
SELECT d.device_id, e.key, e.value FROM devices d, LATERAL jsonb_each_text(d.meta) e WHERE d.owner < 20;

-- lateral: LATERAL over a reference table
SELECT n.n_name, s.cnt FROM nation n, LATERAL (SELECT count(*) AS cnt FROM supplier WHERE s_nationkey = n.n_nationkey) s;

-- values: VALUES in a CTE with ORDER BY (total)
-- @ordered
WITH v(x) AS (VALUES (3), (1), (2)) SELECT x, (SELECT count(*) FROM orders WHERE o_orderkey <= x) FROM v ORDER BY x;

-- values: set-returning function in FROM joined with a distributed table
SELECT g, count(o.o_orderkey) FROM generate_series(1, 10) g LEFT JOIN orders o ON o.o_orderkey = g GROUP BY g;

-- values: unnest of a literal array joined with the bigint table
SELECT u, s.i4 FROM unnest(ARRAY[-9223372036854775808, 0, 42, 9223372036854775807]::bigint[]) u LEFT JOIN sparse s ON s.id = u;
