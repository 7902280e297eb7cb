-- One pgbench transaction against the distributed table of the
-- compatibility scenario: a single-shard read and update in a transaction.
\set id random(1, 100)
BEGIN;
SELECT v FROM compat_pgbench_dist WHERE id = :id;
UPDATE compat_pgbench_dist SET n = n + 1 WHERE id = :id;
END;
