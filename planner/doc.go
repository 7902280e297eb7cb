// Package planner turns a SQL statement into a physical plan for pgfed's
// executor: which statements to send to which worker nodes, and how to
// turn their results into the statement's result. It is pure: no I/O, no
// logging, no context; it reads an immutable catalog.Snapshot and a Schema
// (column names and types of the tables a statement may name, the search
// path, user-defined aggregates), both given by the caller.
//
// # A statement's path through the planner
//
//  1. Planner.Plan looks the text up in the plan cache; then in the shape
//     cache (router statements that differ only in literals: no parse).
//  2. A cheap lexical scan (no parse) decides "local": a statement whose
//     identifiers name no distributed or reference table, and no view over
//     one, gets a KindLocal plan.
//  3. The statement is parsed (pg_query). Views over distributed tables
//     (Schema.WithViews: their definitions, which the executor reads from
//     the metadata database) are expanded
//     as PostgreSQL's rewriter would (view.go): each reference in FROM
//     becomes the view's query as a subquery, and a simple view (no
//     grouping, DISTINCT, LIMIT, sublinks, set-returning or volatile
//     functions) is merged into the query reading it (viewflatten.go), so
//     pruning, co-located joins and pushdown see the tables. The
//     statement is then planned from its new text (Plan.SQL). Writing
//     through such a view, and security_barrier views, are refused;
//     CREATE VIEW over distributed tables is a local plan.
//  4. The statement is resolved: every range
//     variable is classified (distributed, reference, local, CTE) through
//     the search path, query levels (SELECT, subqueries, CTEs) are
//     recorded, column references resolved.
//  5. Shard pruning: at each level, equalities between co-located
//     distribution columns join relations into classes; col = literal,
//     col IN (...), OR of those, and col = $n restrict a class (Prune, an
//     expression evaluated at plan time, or at bind time when it holds
//     parameters); a correlated equality with an outer level inherits the
//     outer restriction. For an organization table the organization
//     column keeps that organization's shards and the hash column one
//     shard per organization, from literals or, at bind, parameters.
//     INSERT ... VALUES routes each row (a multi-row INSERT with
//     parameters in those columns is split per shard at bind,
//     insertrows.go); a value naming no organization is 23514.
//  6. Strategies, most specific first: every distributed table pinned to
//     no shard (the empty shells answer); one shard group (router: the
//     client's text with table names replaced by shard names); a
//     multi-shard pushdown (the FROM and WHERE go to every shard group;
//     the rest goes down whole, or splits into partial and final
//     aggregates; merges in Go where exact, else by a combine query);
//     shipping (ship.go: an uncorrelated x IN (SELECT ...) that keeps the
//     statement from being pushed down runs first and its result goes
//     into every shard's statement as a constant array, within
//     MaxShippedRowsSetting, the pull plan being kept as Fallback);
//     recursive planning (each table's needed rows pulled into an
//     intermediate result, the original statement run over them on the
//     metadata database). Build and Pushed show the relational algebra
//     before and after pushdown.
//
// # How the executor runs a plan
//
// A Plan with Deferred set must first be bound: Plan.Bind(params) returns
// the plan with its tasks (it hashes the parameter values of $n that pin
// shards; a router plan whose values do not pin one shard group binds its
// Alternative). Then, by Kind:
//
//   - KindLocal: send Plan.SQL unchanged on the session's metadata
//     connection and relay the answer.
//   - KindRouter: send Tasks[0].SQL to node Tasks[0].Node (or another of
//     Tasks[0].Nodes if it is down) with the statement's parameters mapped
//     by Task.Params (nil: the statement's own parameters unchanged; else
//     task $i is statement $Params[i-1]); relay its RowDescription, rows and
//     command tag to the client unchanged. A Modify plan writes: 1PC on
//     that node.
//   - KindMultiShard: send every task (in parallel, one connection per
//     task or per node as the pool decides), then merge by Merge.Kind:
//     MergeConcat streams the tasks' rows in any interleaving (task order
//     is fine), applying Merge.Offset then Merge.Limit (a Bound is a
//     constant or a statement parameter) and stopping the tasks early once
//     the limit is reached. MergeSort does a k-way merge of the tasks'
//     rows, which arrive sorted, by Merge.Keys (1-based columns, type,
//     direction, NULLS FIRST/LAST; only types Go orders exactly, so rows
//     can be compared after decoding the text or binary values), applying
//     offset and limit, and returns only the first Merge.Output columns
//     when it is not 0 (later columns are sort keys). The RowDescription
//     is the first task's, cut to Output columns. MergeCombine creates the
//     temporary table Merge.Result with columns Merge.Columns typed from
//     the tasks' RowDescription (CREATE TEMP TABLE ... ON COMMIT DROP, or
//     dropped after the statement), loads every task's rows into it (COPY),
//     then runs Merge.SQL on the metadata connection with its parameters
//     mapped by Merge.Params, and relays that answer. Merge.SQL may name
//     the table's row type: a final sum is cast to its partial column's
//     type through it, so the columns must have exactly the tasks' types
//     (with typmods). For Modify plans the
//     command tags' counts are summed and RETURNING rows concatenated;
//     writes on several nodes commit with 2PC. A Replicated plan writes a
//     reference table: every task is the same statement on another
//     placement; all must succeed (2PC) and the client gets the first
//     task's result only.
//   - Shipped (any kind): before anything else, run each Shipped.Plan
//     and collect its one column of rows (text format), at most the
//     value of Shipped.LimitSetting; past it, run Plan.Fallback instead
//     (or fail with 54000 naming the setting when it is nil). Else
//     replace every Shipped.Marker in the tasks' SQL and Merge.SQL by the
//     array literal '{...}'::type[] (type: the column's, from its
//     RowDescription) and run the plan so made.
//   - KindCoordinator: run each Subplan in order (each one is itself a
//     router or multi-shard plan whose merge is a concatenation), loading
//     its rows into the temporary table Subplan.Result with
//     Subplan.Columns (types from the subplan's RowDescription), failing
//     with SQLSTATE 54000 naming Subplan.LimitSetting when the rows exceed
//     that setting's value; then run Merge.SQL on the metadata connection
//     (parameters mapped by Merge.Params; nil: unchanged) and relay its
//     answer. With no subplans (predicates false on every shard), Merge.SQL
//     is the statement itself, answered by the empty shell tables.
//   - KindExplain: EXPLAIN of a statement on distributed tables. Render
//     Explain(plan.Explained, plan.Explain), fill the nodes' Lines (see
//     below; under ANALYZE, run plan.Explained first as above), and
//     return the text as EXPLAIN's one-column result ("QUERY PLAN").
//
// Intermediate results are named pgfed_ir_<n>, unique within a plan; the
// executor must drop them (or use ON COMMIT DROP inside a transaction)
// before the next statement, so names never collide.
//
// # EXPLAIN
//
// Explain(plan, options) returns the planner's part of EXPLAIN in
// Citus's layout (a custom scan node with Task Count and Tasks Shown, the
// merge steps above it, "Query:" lines under VERBOSE). The executor fills
// ExplainNode.Lines: for nodes with Task set, the worker's own EXPLAIN of
// Task.SQL; for nodes with CombineSQL, the metadata database's EXPLAIN of
// that query.
//
// # Errors
//
// Errors carry SQLState(): 42601 for syntax errors, 42P01 for a
// distributed table without a shell definition, 42703 for a column a
// distributed or reference table does not have, 23502 for an INSERT with a
// NULL distribution value, 0A000 only for shapes not supported yet (DDL on
// distributed tables, INSERT ... SELECT that is not co-located, INSERT
// with a computed distribution value, multi-statement strings naming
// distributed tables, writes to a reference table that read a
// distributed one, writes through a view over distributed tables,
// security_barrier views over them). SELECT ... FOR UPDATE/SHARE across
// shards is pushed to every shard group with its locking clause
// (locking.go); with aggregates, GROUP BY, DISTINCT, HAVING or window
// functions it fails with PostgreSQL's own 0A000 message, and with LIMIT
// or OFFSET, or where a pull would be needed, with a 0A000 that says why.
// The planner never panics on input.
package planner
