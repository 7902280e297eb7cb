// Package difftest is pgfed's differential test: the same rows in one plain
// PostgreSQL (the oracle) and in a pgfed cluster, the same SELECTs on both,
// and the same answers required — the same multiset of rows, in the same
// order when the query's ORDER BY is total, with the same column names and
// types.
//
// The pieces, each reusable on its own:
//
//   - testdata/difftest/schema.sql and distribute.sql: a TPC-H-like schema
//     (reference, co-located and non-co-located tables) plus tables
//     distributed by text, uuid and bigint full of NULLs and edge values,
//     and a local table.
//   - Generate: the rows of every table, deterministic for a seed and a
//     Scale, as COPY text; LoadData and ExecScript load them.
//   - LoadCorpus: the queries of testdata/difftest/queries/*.sql, each with a
//     header comment naming what it exercises and the tags @ordered (compare
//     in order) and @empty (no rows is the right answer).
//   - NewGenerator: random SELECTs over the schema (filters, joins along
//     known keys, aggregates, GROUP BY (by ordinal too, with constant
//     keys), HAVING, DISTINCT, ORDER BY over every output column with
//     LIMIT/OFFSET), deterministic in their output.
//   - Runner: runs each query on both sides, compares with Diff, classifies
//     the outcome (pass, mismatch, not supported, error, oracle error), keeps
//     EXPLAIN of mismatches, and reports every failure and the main causes.
//
// The tests:
//
//	go test ./executor/difftest -run TestCorpusOracle   # the corpus alone, on the oracle
//	go test ./executor/difftest -run TestRandomOracle   # the generator alone, on the oracle
//	go test ./executor/difftest -run TestDifferential   # oracle vs cluster
//
// TestCorpusOracle and TestRandomOracle also run every query under another
// plan (no hash aggregation or hash join, parallel scans forced) and require
// the same answer, which catches queries whose output is not determined
// (an unordered LIMIT, a float sum, DISTINCT over values that are equal but
// print differently).
//
// TestDifferential starts four PostgreSQL servers (oracle, metadata, two
// workers) with pgcluster and a coordinator in this process (the executor's
// Handler behind the wire server, workers registered in the catalog),
// creates the schema and loads the rows through the coordinator, runs
// distribute.sql through it (so create_distributed_table moves the rows into
// the shards), checks that no distributed table's rows were left in the
// metadata database, then runs the corpus and random queries for
// $PGFED_DIFFTEST_RANDOM (default 10s; seed $PGFED_DIFFTEST_SEED, default 1).
// $PGFED_DIFFTEST_MATCH filters corpus queries by "file:line name";
// $PGFED_DIFFTEST_REPORT names a file for the full report. The corpus
// queries listed in testdata/difftest/known_failures.txt (Judge) are
// expected to fail and are reported as KNOWN; the test fails on any other
// failure, random ones included, and on a listed query that passes. The
// failure lists every mismatch with its file:line, both sides' differing
// rows and pgfed's plan.
package difftest
