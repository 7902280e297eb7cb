package store

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/hashicorp/go-hclog"
	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgfed/pgfed/catalog"
)

// Tx is a catalog transaction, given to the function passed to
// Store.Update. Its methods change the catalog in the metadata database;
// nothing is visible to others, or checked against the catalog's
// invariants, until Update commits. A Tx must not be used after that
// function returns, nor by two goroutines at once.
type Tx struct {
	tx  pgx.Tx
	log hclog.Logger
}

// Snapshot loads the catalog as this transaction sees it, including its
// own changes so far, and checks it. Between the steps of a change (a
// table added, its shards not yet) the check fails with a
// *catalog.InvariantError; call it before changing anything, to decide
// what to change.
func (t *Tx) Snapshot(ctx context.Context) (*catalog.Snapshot, error) {
	snap, err := load(ctx, t.tx, t.log)
	if err != nil {
		return nil, fmt.Errorf("catalog transaction: load the catalog: %w", err)
	}
	return snap, nil
}

// Exec runs a statement in the catalog transaction, for work that must
// commit or roll back with the catalog change (the shell table's DDL in the
// metadata database, say). It must not break the catalog's invariants;
// Update checks them before committing.
func (t *Tx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return t.tx.Exec(ctx, sql, args...)
}

// QueryRow runs a query returning at most one row in the catalog
// transaction (to read a column's type from pg_attribute, say).
func (t *Tx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return t.tx.QueryRow(ctx, sql, args...)
}

// CreateColocationGroup creates a co-location group with g's method, shard
// count and column type and returns its id, taken from the co-location id
// sequence (g.ID is ignored).
func (t *Tx) CreateColocationGroup(ctx context.Context, g catalog.ColocationGroup) (int32, error) {
	if !g.Method.Valid() {
		return 0, newError(pgerrcode.InvalidParameterValue, ErrInvalidArgument, "co-location group: unknown distribution method %v", g.Method)
	}
	if err := catalog.CheckShardCount(g.ShardCount); err != nil {
		return 0, fmt.Errorf("co-location group: %w", err)
	}
	var id int32
	err := t.tx.QueryRow(ctx, `INSERT INTO pgfed.colocation (colocationid, method, shardcount, distributioncolumntype)
		VALUES (nextval('pgfed.colocationid_seq'), $1, $2, $3) RETURNING colocationid`,
		g.Method.String(), g.ShardCount, g.ColumnType.OID()).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("create a co-location group: %w", err)
	}
	return id, nil
}

// RemoveColocationGroup deletes a co-location group that no table uses.
func (t *Tx) RemoveColocationGroup(ctx context.Context, id int32) error {
	tag, err := t.tx.Exec(ctx, "DELETE FROM pgfed.colocation WHERE colocationid = $1", id)
	if err != nil {
		return fmt.Errorf("remove co-location group %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return newError(pgerrcode.UndefinedObject, ErrColocationGroupNotFound, "co-location group %d does not exist", id)
	}
	return nil
}

// AddDistributedTable records a table as distributed: tb.Relation must
// name an existing table of the metadata database (the shell table), whose
// columns tb.Column and tb.HashColumn (where the method has them) must
// exist with types tb.ColumnType and tb.HashColumnType (or domains over
// them). It returns tb with its OID filled in. The co-location group and the
// method's rules are checked when Update commits; tb.ShardCount is the
// group's.
func (t *Tx) AddDistributedTable(ctx context.Context, tb catalog.Table) (catalog.Table, error) {
	if !tb.Method.Valid() {
		return tb, newError(pgerrcode.InvalidParameterValue, ErrInvalidArgument, "table %v: unknown distribution method %v", tb, tb.Method)
	}
	oid, err := t.relationOID(ctx, tb.Relation)
	if err != nil {
		return tb, err
	}
	var exists bool
	if err := t.tx.QueryRow(ctx, "SELECT EXISTS (SELECT FROM pgfed.partition WHERE logicalrelid = $1)", oid).Scan(&exists); err != nil {
		return tb, fmt.Errorf("table %v: %w", tb, err)
	}
	if exists {
		return tb, newError(pgerrcode.DuplicateObject, ErrAlreadyDistributed, "table %v is already distributed", tb)
	}
	var attnum, hashAttnum *int16
	if tb.Column != "" {
		n, err := t.columnAttnum(ctx, tb.Relation, oid, tb.Column, tb.ColumnType)
		if err != nil {
			return tb, err
		}
		attnum = &n
	}
	if tb.HashColumn != "" {
		n, err := t.columnAttnum(ctx, tb.Relation, oid, tb.HashColumn, tb.HashColumnType)
		if err != nil {
			return tb, err
		}
		hashAttnum = &n
	}
	_, err = t.tx.Exec(ctx, `INSERT INTO pgfed.partition
		(logicalrelid, partmethod, partattnum, partkeytype, hashattnum, hashkeytype, colocationid)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		oid, tb.Method.String(), attnum, tb.ColumnType.OID(), hashAttnum, tb.HashColumnType.OID(), tb.ColocationID)
	if err != nil {
		if isViolation(err, pgerrcode.ForeignKeyViolation, "partition_colocationid_fkey") {
			return tb, newError(pgerrcode.UndefinedObject, ErrColocationGroupNotFound, "table %v: co-location group %d does not exist", tb, tb.ColocationID)
		}
		return tb, fmt.Errorf("add distributed table %v: %w", tb, err)
	}
	tb.OID = oid
	return tb, nil
}

// relationOID returns the OID of a table (ordinary or partitioned) of the
// metadata database, by exact schema and name.
func (t *Tx) relationOID(ctx context.Context, rel catalog.RelationName) (uint32, error) {
	var oid uint32
	err := t.tx.QueryRow(ctx, `SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`, rel.Schema, rel.Name).Scan(&oid)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, newError(pgerrcode.UndefinedTable, ErrTableNotFound, "relation %v does not exist in the metadata database", rel)
	}
	if err != nil {
		return 0, fmt.Errorf("look up table %v: %w", rel, err)
	}
	return oid, nil
}

// columnAttnum returns the attnum of a column, checking its type (or its
// domain's base type) is typ.
func (t *Tx) columnAttnum(ctx context.Context, rel catalog.RelationName, oid uint32, column string, typ catalog.Type) (int16, error) {
	var attnum int16
	var atttype, basetype uint32
	err := t.tx.QueryRow(ctx, `SELECT a.attnum, a.atttypid, ty.typbasetype FROM pg_attribute a JOIN pg_type ty ON ty.oid = a.atttypid
		WHERE a.attrelid = $1 AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped`, oid, column).Scan(&attnum, &atttype, &basetype)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, newError(pgerrcode.UndefinedColumn, ErrColumnNotFound, "column %q of relation %v does not exist", column, rel)
	}
	if err != nil {
		return 0, fmt.Errorf("look up column %q of %v: %w", column, rel, err)
	}
	if atttype != typ.OID() && basetype != typ.OID() {
		return 0, newError(pgerrcode.DatatypeMismatch, ErrInvalidArgument,
			"column %q of relation %v has type oid %d, not %s", column, rel, atttype, typ.SQLName())
	}
	return attnum, nil
}

// AddShards creates shards of a table with the given hash ranges, in
// index order, for organization org ("" unless the table is an
// organization table), with ids taken in increasing order from
// pgfed.shardid_seq (the first is catalog.FirstShardID). It returns the
// shards; placements come separately (AddPlacements).
func (t *Tx) AddShards(ctx context.Context, table catalog.RelationName, org string, ranges []catalog.HashRange) ([]catalog.Shard, error) {
	oid, err := t.relationOID(ctx, table)
	if err != nil {
		return nil, err
	}
	rows, _ := t.tx.Query(ctx, "SELECT nextval('pgfed.shardid_seq') FROM generate_series(1, $1)", len(ranges))
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("shards of %v: take shard ids: %w", table, err)
	}
	slices.Sort(ids)
	shards := make([]catalog.Shard, len(ranges))
	idx, mins, maxs := make([]int32, len(ranges)), make([]int32, len(ranges)), make([]int32, len(ranges))
	for i, r := range ranges {
		shards[i] = catalog.Shard{ID: ids[i], Table: table, Index: i, Organization: org, Range: r}
		idx[i], mins[i], maxs[i] = int32(i), r.Min, r.Max
	}
	var orgArg *string
	if org != "" {
		orgArg = &org
	}
	_, err = t.tx.Exec(ctx, `INSERT INTO pgfed.shard (shardid, logicalrelid, shardindex, organization, shardminvalue, shardmaxvalue)
		SELECT id, $2::oid::regclass, ix, $3, lo, hi FROM unnest($1::bigint[], $4::int[], $5::int[], $6::int[]) AS u(id, ix, lo, hi)`,
		ids, oid, orgArg, idx, mins, maxs)
	switch {
	case isViolation(err, pgerrcode.ForeignKeyViolation, "shard_logicalrelid_fkey"):
		return nil, newError(pgerrcode.UndefinedTable, ErrTableNotFound, "shards of %v: the table is not distributed", table)
	case isViolation(err, pgerrcode.ForeignKeyViolation, "shard_organization_fkey"):
		return nil, newError(pgerrcode.UndefinedObject, ErrOrganizationNotFound, "shards of %v: organization %q does not exist", table, org)
	case err != nil:
		return nil, fmt.Errorf("add %d shards of %v: %w", len(ranges), table, err)
	}
	return shards, nil
}

// AddPlacements records shard placements.
func (t *Tx) AddPlacements(ctx context.Context, placements ...catalog.Placement) error {
	shards, nodes := make([]int64, len(placements)), make([]int32, len(placements))
	for i, p := range placements {
		shards[i], nodes[i] = p.ShardID, p.NodeID
	}
	_, err := t.tx.Exec(ctx, `INSERT INTO pgfed.placement (shardid, nodeid) SELECT * FROM unnest($1::bigint[], $2::int[])`, shards, nodes)
	switch {
	case isViolation(err, pgerrcode.ForeignKeyViolation, "placement_shardid_fkey"):
		return newError(pgerrcode.UndefinedObject, ErrShardNotFound, "add placements: %s", detail(err))
	case isViolation(err, pgerrcode.ForeignKeyViolation, "placement_nodeid_fkey"):
		return newError(pgerrcode.UndefinedObject, ErrNodeNotFound, "add placements: %s", detail(err))
	case isViolation(err, pgerrcode.UniqueViolation, ""):
		return newError(pgerrcode.DuplicateObject, ErrInvalidArgument, "add placements: placement exists: %s", detail(err))
	case err != nil:
		return fmt.Errorf("add %d placements: %w", len(placements), err)
	}
	return nil
}

// RemovePlacement deletes the placement of a shard on a node (after a
// move, say). A shard left without placements fails the check at commit.
func (t *Tx) RemovePlacement(ctx context.Context, p catalog.Placement) error {
	tag, err := t.tx.Exec(ctx, "DELETE FROM pgfed.placement WHERE shardid = $1 AND nodeid = $2", p.ShardID, p.NodeID)
	if err != nil {
		return fmt.Errorf("remove placement %v: %w", p, err)
	}
	if tag.RowsAffected() == 0 {
		return newError(pgerrcode.UndefinedObject, ErrShardNotFound, "placement %v does not exist", p)
	}
	return nil
}

// RemoveTable deletes a table from the catalog with its shards and
// placements, and its co-location group when no other table uses it (as
// Citus does when the last table of a group is dropped).
func (t *Tx) RemoveTable(ctx context.Context, table catalog.RelationName) error {
	oid, err := t.relationOID(ctx, table)
	if err != nil {
		return err
	}
	var group int32
	err = t.tx.QueryRow(ctx, "DELETE FROM pgfed.partition WHERE logicalrelid = $1 RETURNING colocationid", oid).Scan(&group)
	if errors.Is(err, pgx.ErrNoRows) {
		return newError(pgerrcode.UndefinedTable, ErrTableNotFound, "table %v is not distributed", table)
	}
	if err != nil {
		return fmt.Errorf("remove table %v: %w", table, err)
	}
	if _, err := t.tx.Exec(ctx, `DELETE FROM pgfed.colocation g WHERE colocationid = $1
		AND NOT EXISTS (SELECT FROM pgfed.partition p WHERE p.colocationid = g.colocationid)`, group); err != nil {
		return fmt.Errorf("remove table %v: drop its empty co-location group %d: %w", table, group, err)
	}
	return nil
}

// RemoveDroppedTables deletes the catalog rows of tables that no longer
// exist in the metadata database (dropped outside pgfed), with their
// shards and placements, and returns how many tables it removed.
func (t *Tx) RemoveDroppedTables(ctx context.Context) (int64, error) {
	tag, err := t.tx.Exec(ctx, `DELETE FROM pgfed.partition p WHERE NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = p.logicalrelid)`)
	if err != nil {
		return 0, fmt.Errorf("remove dropped tables: %w", err)
	}
	return tag.RowsAffected(), nil
}

// isViolation reports whether err is a PostgreSQL error with the given
// code and, unless constraint is "", on that constraint.
func isViolation(err error, code, constraint string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == code && (constraint == "" || pe.ConstraintName == constraint)
}

// detail returns the DETAIL of a PostgreSQL error (which names the
// offending key), or its message.
func detail(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Detail != "" {
		return pe.Detail
	}
	return err.Error()
}
