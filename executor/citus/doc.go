// Package citus is Citus's user-facing SQL API on pgfed: the functions a
// Citus user calls with SELECT (create_distributed_table,
// create_reference_table, citus_add_node, ...), the catalog views and
// tables a Citus user queries (citus_shards, citus_tables, pg_dist_node,
// ...), and DDL on distributed and reference tables (CREATE INDEX, ALTER
// TABLE, DROP TABLE, TRUNCATE), applied to the shell table in the metadata
// database and to every shard, all or nothing.
//
// # Entry points (for the session)
//
// For every statement the session asks Match(snapshot, stmt); when it says
// yes the session hands the statement to Run with an Env (the store, the
// dtx coordinator and pools, the session's metadata connection as a
// Metadata, and its open distributed transaction if the client is in a
// transaction block). Run writes RowDescription, DataRow and
// CommandComplete to the wire.Results (and NoticeResponse where Citus
// notices); errors carry SQLState(). Init creates the views; Run also
// creates them on first use, so calling Init at startup is optional.
//
// # Functions
//
//	create_distributed_table(table_name regclass, distribution_column text,
//	    distribution_type text DEFAULT 'hash', colocate_with text DEFAULT 'default',
//	    shard_count int DEFAULT NULL)                      void
//	create_reference_table(table_name regclass)            void
//	undistribute_table(table_name regclass,
//	    cascade_via_foreign_keys bool DEFAULT false)       void
//	truncate_local_data_after_distributing_table(function_name regclass) void
//	get_shard_id_for_distribution_column(table_name regclass,
//	    distribution_value "any" DEFAULT NULL)             bigint
//	worker_hash(value "any")                               integer
//	citus_add_node(nodename text, nodeport int, groupid int DEFAULT -1,
//	    noderole DEFAULT 'primary', nodecluster name DEFAULT 'default') integer
//	citus_remove_node(nodename text, nodeport int)         void
//	citus_get_active_worker_nodes()                        SETOF (node_name text, node_port bigint)
//	run_command_on_workers(command text, parallel bool DEFAULT true)
//	                                                       SETOF (nodename text, nodeport int, success bool, result text)
//	citus_table_size(logicalrelid regclass)                bigint (and citus_relation_size,
//	                                                       citus_total_relation_size)
//	recover_prepared_transactions()                        integer
//	pgfed_add_organization(name text)                      void
//	pgfed_set_node_organization(nodename text, nodeport int, organization text) void
//	pgfed_ledger(limit int DEFAULT 20)                     SETOF (organization text, slot bigint,
//	                                                       gid text, decision text, participants text[])
//	pgfed_ledger_status()                                  SETOF (organization text, validator text,
//	                                                       last_slot bigint, applied_slot bigint, digest text, error text)
//
// pgfed_ledger and pgfed_ledger_status read the organizations' decision
// ledgers from their validators (one per organization, through the
// coordinator's federation, ledger.go): the last limit slots' final
// decisions, and each ledger's last slot, slot applied and digest (equal
// digests at equal slots: identical ledgers).
//
// shard_count defaults to the session's citus.shard_count (a custom
// setting that SET and SHOW pass through to the metadata database; read
// with current_setting('citus.shard_count', true)), else 32.
// distribution_type 'org' (or 'organization') distributes by an
// organization column: distribution_column is 'org_column' (one shard per
// organization) or 'org_column, hash_column' (shard_count shards per
// organization, rows hashed on hash_column); shards of an organization go
// round robin over its workers.
//
// A SELECT that calls our functions (in its target list, or in FROM for
// the set-returning ones) is run in two steps: each call is evaluated
// (its arguments first, on the metadata connection, so casts, regclass
// lookups and expressions behave as in PostgreSQL; then the function
// itself, in Go), and its result replaces the call in the statement: a
// constant of the function's return type, or a VALUES list for a
// set-returning function in FROM. The rewritten statement runs on the
// metadata connection, so that column names, types, WHERE, ORDER BY and
// joins come out exactly as PostgreSQL gives them. Arguments may be
// named (colocate_with => 'other') or positional. Arguments that refer to
// columns of the query's own rows are not supported (the call is
// evaluated once).
//
// # Atomicity of catalog changes
//
// create_distributed_table, create_reference_table, undistribute_table,
// DROP TABLE and, outside a transaction block, every DDL statement run in
// one store.Update: its metadata transaction holds the catalog rows, the
// shell table's changes (its DDL, the truncation or refill of its rows)
// and the 2PC decision rows of a dtx transaction of our own that does the
// worker side (shard DDL, row copies). The workers' parts are prepared
// before Update commits (dtx.Txn.PrepareIn), so the commit of that one
// metadata transaction decides everything: after it COMMIT PREPARED, after
// a failure ROLLBACK PREPARED, and when the outcome is unknown the
// decision log settles it (as dtx's recovery would). A worker that fails
// at any step leaves nothing behind: no catalog rows, no shard tables,
// the shell as it was.
//
// # Moving rows
//
// Rows of a table being distributed are streamed out of the shell with
// COPY TO STDOUT (text) inside the catalog transaction, routed in Go by
// catalog.HashText on the distribution column (bit-exact with the
// workers' own hash functions, and independent of which SQL function
// hashes which type), buffered per shard (spilled to temporary files past
// a memory bound), then sent with one COPY FROM STDIN per shard on the
// shard's worker, in the distributed transaction. The shell is then
// truncated in the catalog transaction; when another table's foreign key
// references the shell, the local rows are kept and a NOTICE points to
// truncate_local_data_after_distributing_table, as Citus does.
// undistribute_table streams each shard's rows back into the shell
// (worker COPY TO piped into the shell's COPY FROM).
//
// # Views
//
// The views are real views in the metadata database's pgfed schema
// (created by Init, idempotently, under an advisory lock); a statement
// that names one of them unqualified (or as pg_catalog.<name>) is
// rewritten to name pgfed.<name> and run on the metadata connection, so
// filters, joins, aggregates and ORDER BY over them simply work, in the
// client's transaction. citus_shards and citus_tables also report sizes,
// which live on the workers: for those the reference is replaced by a
// subquery that joins the view with the sizes just read from the workers.
//
// # DDL
//
// DDL naming a distributed or reference table is parsed, the shell's
// statement is run with the table names qualified, and each shard's
// statement is deparsed from the same tree with the table names (and
// index and constraint names) replaced by the shard's: <name>_<shardid>.
// Statements we cannot propagate fail with 0A000 before anything runs.
// Supported: CREATE [UNIQUE] INDEX [CONCURRENTLY] (CONCURRENTLY is
// dropped with a NOTICE: the build runs in the one atomic transaction,
// and writes wait for it), DROP INDEX, ALTER TABLE ADD/DROP COLUMN, SET/DROP
// DEFAULT, SET/DROP NOT NULL, ALTER COLUMN TYPE, ADD/DROP/VALIDATE
// CONSTRAINT (with Citus's rules), SET STATISTICS/STORAGE/COMPRESSION,
// SET/RESET (options), REPLICA IDENTITY, OWNER TO (the role must exist on
// the workers), row level security switches,
// RENAME of the table, a column or a constraint, TRUNCATE, DROP TABLE,
// DROP SCHEMA (of schemas holding distributed tables),
// GRANT, VACUUM and ANALYZE (not atomic, as in Citus), COMMENT (the shell
// only, as in Citus). Unnamed indexes and constraints are named first,
// as PostgreSQL would name them on the shell, so that every shard's name
// is the shell's plus the shard suffix.
//
// # Privileges
//
// The catalog transaction runs as the store's user and the workers'
// transactions as the pools' user, so the client's privileges are
// enforced on the shell, where PostgreSQL checks them: shell statements
// run under SET LOCAL ROLE of the client's current_user (read through
// Meta), distributing or undistributing a table needs its ownership
// (42501, as Citus), and functions that change nodes or run commands on
// the workers need a superuser.
//
// # For the session
//
//   - In a transaction block, DDL runs on the shards in Env.Txn first and
//     then on the shell through Meta; when Run fails the block is failed,
//     as after any error: only ROLLBACK may follow (Env.Txn has been
//     aborted by StatementError when a worker failed).
//   - Catalog changes (create_distributed_table, create_reference_table,
//     undistribute_table, DROP TABLE and table RENAME of distributed
//     tables, the node functions) refuse to run in a block (25001): their
//     catalog rows commit in store.Update's own transaction, which cannot
//     join the client's. A store API that runs a catalog change on a given
//     connection would lift this.
//   - Run answers in the simple protocol's order (RowDescription, rows,
//     CommandComplete). Arguments are evaluated on Meta as SQL text, so
//     $n parameters are not supported.
//   - A call whose arguments use the query's own rows, or a query that
//     mixes our views with distributed tables, is evaluated once, on the
//     metadata database.
//   - citus_add_node copies every reference table to the new node (one
//     atomic change after the node is recorded; calling it again finishes
//     a copy that failed). citus_remove_node first drops the node's
//     reference table placements when they are all it holds, and refuses
//     (2BP01) while it holds shards of distributed tables.
package citus
