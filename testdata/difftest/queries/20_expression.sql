-- Expressions and functions on the distribution column: they defeat
-- pruning (the hash of f(x) is not f(hash(x))) and must still be right.

-- expr: arithmetic on the distribution column in WHERE
SELECT o_orderkey FROM orders WHERE o_orderkey + 1 = 34;

-- expr: distribution column compared with a function of itself
SELECT count(*) FROM orders WHERE o_orderkey = abs(o_orderkey);

-- expr: modulo of the distribution column
SELECT o_orderkey % 8 AS m, count(*) FROM orders GROUP BY 1;

-- expr: cast of the distribution column to text
SELECT o_orderkey FROM orders WHERE o_orderkey::text = '33';

-- expr: cast of the distribution column to text with LIKE
SELECT count(*) FROM orders WHERE o_orderkey::text LIKE '1%';

-- expr: distribution column in a function call in the select list
SELECT o_orderkey, md5(o_orderkey::text), hashtext(o_orderkey::text) FROM orders WHERE o_orderkey < 40;

-- expr: lower() of the text distribution column
SELECT lower(tag), count(*) FROM tag_events GROUP BY lower(tag);

-- expr: text distribution column compared case-insensitively
SELECT tag, seq FROM tag_events WHERE upper(tag) = 'ALPHA';

-- expr: substring of the text distribution column
SELECT substr(tag, 1, 1) AS c, count(*) FROM tag_events GROUP BY 1;

-- expr: uuid distribution column cast to text and sliced
SELECT substr(device_id::text, 1, 1) AS c, count(*) FROM devices GROUP BY 1;

-- expr: bigint distribution column divided
SELECT id / 1000000000000 AS bucket, count(*) FROM sparse GROUP BY 1;

-- expr: join on an expression of the distribution columns
SELECT count(*) FROM orders o JOIN lineitem l ON l.l_orderkey = o.o_orderkey + 32;

-- expr: join on the distribution column of one side and an expression on the other
SELECT count(*) FROM orders o JOIN lineitem l ON l.l_orderkey = o.o_orderkey * 1;

-- expr: distribution column in a CASE in GROUP BY
SELECT CASE WHEN o_orderkey < 5000 THEN 'low' ELSE 'high' END AS half, count(*), sum(o_totalprice) FROM orders GROUP BY 1;

-- expr: distribution column = const OR a non-distribution filter (no pruning)
SELECT o_orderkey FROM orders WHERE o_orderkey = 1 OR o_custkey = 2;

-- expr: distribution column = another column of the same row
-- @empty
SELECT * FROM lineitem WHERE l_orderkey = l_linenumber + 1000000;

-- expr: distribution column in a BETWEEN SYMMETRIC
SELECT count(*) FROM lineitem WHERE l_orderkey BETWEEN SYMMETRIC 500 AND 100;

-- expr: distribution column = ANY(array)
SELECT o_orderkey FROM orders WHERE o_orderkey = ANY (ARRAY[1, 2, 3, 9, 65]);

-- expr: distribution column = ANY of an empty array
-- @empty
SELECT o_orderkey FROM orders WHERE o_orderkey = ANY ('{}'::int[]);

-- expr: string formatting functions
SELECT c_custkey, format('%s/%s', c_name, c_mktsegment), to_char(c_acctbal, 'FM999999.00'), left(c_phone, 2) FROM customer WHERE c_custkey < 20;

-- expr: date functions
SELECT o_orderkey, to_char(o_orderdate, 'YYYY-MM'), date_part('dow', o_orderdate), o_orderdate + INTERVAL '1 month' FROM orders WHERE o_orderkey < 20;

-- expr: numeric functions
SELECT p_partkey, round(p_retailprice, 0), trunc(p_retailprice), ceil(p_retailprice / 7), floor(p_retailprice / 7), mod(p_partkey, 7), power(p_size, 2) FROM part WHERE p_partkey < 15;

-- expr: greatest and least
SELECT l_orderkey, l_linenumber, greatest(l_shipdate, l_commitdate, l_receiptdate), least(l_discount, l_tax) FROM lineitem WHERE l_orderkey < 10;

-- expr: regexp and split functions
SELECT s_suppkey, split_part(s_phone, '-', 1), regexp_replace(s_name, '#0*', '#') FROM supplier;

-- expr: jsonb building functions
SELECT s_suppkey, jsonb_build_object('name', s_name, 'bal', s_acctbal) FROM supplier WHERE s_suppkey < 6;

-- expr: row constructor comparison on the distribution column
SELECT l_orderkey, l_linenumber FROM lineitem WHERE (l_orderkey, l_linenumber) > (11900, 3);
