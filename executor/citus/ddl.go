package citus

import (
	"context"
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"
	"google.golang.org/protobuf/proto"

	"github.com/pgfed/pgfed/catalog"
)

// resolved is a table name as the client's session resolves it.
type resolved struct {
	oid uint32
	rel catalog.RelationName
}

// ddl runs DDL that names distributed or reference tables: on the shell
// and on every shard, atomically (see doc.go), or refuses it with 0A000
// before anything runs. A statement that turns out to name none runs
// unchanged on the metadata connection.
func (r *runner) ddl(ctx context.Context, n *pg.Node) error {
	snap, err := r.snapshot(ctx)
	if err != nil {
		return err
	}
	if d := n.GetDropStmt(); d != nil && d.RemoveType == pg.ObjectType_OBJECT_INDEX {
		return r.dropIndex(ctx, snap, n, d)
	}
	if d := n.GetDropStmt(); d != nil && d.RemoveType == pg.ObjectType_OBJECT_TABLE {
		return r.dropTable(ctx, snap, n, d)
	}
	if d := n.GetDropStmt(); d != nil && d.RemoveType == pg.ObjectType_OBJECT_SCHEMA {
		return r.dropTables(ctx, snap, n, distributedIn(snap, d), d.Behavior == pg.DropBehavior_DROP_CASCADE)
	}
	rvs := rangeVars(n)
	res, err := r.resolve(ctx, rvs)
	if err != nil {
		return err
	}
	var dist []catalog.Table
	for i, rv := range rvs {
		if res[i].oid == 0 {
			continue
		}
		rv.Schemaname = res[i].rel.Schema
		if t, ok := snap.TableByOID(res[i].oid); ok {
			dist = append(dist, t)
		}
	}
	if len(dist) == 0 {
		return r.passThrough(ctx, n)
	}
	if tr := n.GetTruncateStmt(); tr != nil {
		return r.truncate(ctx, snap, n, tr)
	}
	if v := n.GetVacuumStmt(); v != nil {
		return r.vacuum(ctx, snap, n, v)
	}
	main := dist[0]
	// The table the statement is about comes first in the statement's
	// tree; make sure of it where the statement says which.
	var target *pg.RangeVar
	switch x := n.Node.(type) {
	case *pg.Node_IndexStmt:
		target = x.IndexStmt.Relation
	case *pg.Node_AlterTableStmt:
		target = x.AlterTableStmt.Relation
	case *pg.Node_RenameStmt:
		target = x.RenameStmt.Relation
	}
	if target != nil {
		t, ok := snap.Table(target.Schemaname, target.Relname)
		if !ok {
			return notSupported("%s of local table %s naming distributed table %s is not supported by pgfed",
				statementName(n), target.Relname, main.Relation)
		}
		main = t
	}
	switch x := n.Node.(type) {
	case *pg.Node_IndexStmt:
		err = checkIndex(main, x.IndexStmt)
		if err == nil && x.IndexStmt.Concurrent {
			// A concurrent build cannot run in a transaction, and the shell
			// and shards must change atomically: build it in the
			// transaction (writes wait meanwhile).
			x.IndexStmt.Concurrent = false
			r.notice("pgfed builds the index in one transaction on the shell and every shard; CONCURRENTLY is ignored",
				"Writes to the table wait until the index is built.")
		}
	case *pg.Node_AlterTableStmt:
		err = checkAlterTable(snap, main, res, rvs, x.AlterTableStmt)
	case *pg.Node_RenameStmt:
		err = checkRename(r, main, x.RenameStmt)
	case *pg.Node_GrantStmt, *pg.Node_CommentStmt:
	default:
		err = notSupported("%s on distributed table %s is not supported by pgfed", statementName(n), main.Relation)
	}
	if err != nil {
		return err
	}
	if n.GetCommentStmt() != nil {
		return r.passThrough(ctx, n) // comments stay on the shell, as in Citus
	}
	if err := r.nameUnnamed(ctx, main, n); err != nil {
		return err
	}
	perNode := map[int32][]string{}
	if shardNode := withoutSequenceDefaults(n); shardNode != nil {
		if perNode, err = perShard(snap, main, dist, shardNode); err != nil {
			return err
		}
	}
	return r.apply(ctx, n, perNode, nil)
}

// withoutSequenceDefaults returns the statement the shards get: an ALTER
// TABLE without its SET DEFAULT subcommands whose defaults call nextval
// (the shell alone keeps those: the coordinator computes the values, and
// the sequence is not on the workers); nil when nothing is left.
func withoutSequenceDefaults(n *pg.Node) *pg.Node {
	at := n.GetAlterTableStmt()
	if at == nil {
		return n
	}
	var keep []*pg.Node
	for _, c := range at.Cmds {
		cmd := c.GetAlterTableCmd()
		if cmd != nil && cmd.Subtype == pg.AlterTableType_AT_ColumnDefault && callsNextval(cmd.Def) {
			continue
		}
		keep = append(keep, c)
	}
	if len(keep) == len(at.Cmds) {
		return n
	}
	if len(keep) == 0 {
		return nil
	}
	c := proto.Clone(n).(*pg.Node)
	c.GetAlterTableStmt().Cmds = keep
	return c
}

// callsNextval reports whether an expression calls nextval.
func callsNextval(e *pg.Node) bool {
	if e == nil {
		return false
	}
	for _, x := range allNodes(e) {
		if fc := x.GetFuncCall(); fc != nil {
			if _, name := funcName(fc); name == "nextval" {
				return true
			}
		}
	}
	return false
}

// perShard builds each worker's statements: the statement once per shard
// of main placed there, with main renamed to the shard and the other
// distributed tables it names (foreign key targets) to their co-located
// shards.
func perShard(snap *catalog.Snapshot, main catalog.Table, others []catalog.Table, n *pg.Node) (map[int32][]string, error) {
	perNode := map[int32][]string{}
	for _, s := range snap.ShardsOf(main.Relation) {
		rn := renamer{tables: map[catalog.RelationName]string{main.Relation: s.Name()}, shardID: s.ID}
		for _, o := range others {
			if o.Relation == main.Relation {
				continue
			}
			name, ok := colocatedShard(snap, o, s)
			if !ok {
				return nil, notSupported("cannot relate %s to %s: they are not co-located", main.Relation, o.Relation)
			}
			rn.tables[o.Relation] = name
		}
		c := proto.Clone(n).(*pg.Node)
		rn.apply(c)
		sql, err := deparse(c)
		if err != nil {
			return nil, err
		}
		for _, p := range snap.PlacementsOf(s.ID) {
			perNode[p.NodeID] = append(perNode[p.NodeID], sql)
		}
	}
	return perNode, nil
}

// apply runs the shell's statement and the workers' statements together:
// in a change of their own (the shell's statement in the catalog
// transaction), or, inside the client's transaction block, on the
// workers in the session's transaction and then on the shell through
// Meta. catalogWork, if any, runs first in the change (DROP TABLE's
// catalog rows); it is refused in a block.
func (r *runner) apply(ctx context.Context, n *pg.Node, perNode map[int32][]string, catalogWork func(ctx context.Context, c *change) error) error {
	sql, err := deparse(n)
	if err != nil {
		return err
	}
	if r.env.Txn != nil {
		if catalogWork != nil {
			return inBlock(statementName(n) + " on a distributed table")
		}
		if err := runOnWorkers(ctx, r.env.Txn, perNode); err != nil {
			return err
		}
		rows, err := r.env.Meta.Query(ctx, sql)
		if err != nil {
			return err
		}
		return r.complete(rows.Tag)
	}
	var tag string
	err = r.atomically(ctx, func(ctx context.Context, c *change) error {
		if catalogWork != nil {
			if err := catalogWork(ctx, c); err != nil {
				return err
			}
		}
		err := r.asClient(ctx, c, func() error {
			t, err := c.tx.Exec(ctx, sql)
			tag = t.String()
			return err
		})
		if err != nil {
			return err
		}
		return c.onWorkers(ctx, perNode)
	})
	if err != nil {
		return err
	}
	return r.complete(tag)
}

// passThrough runs a statement unchanged on the metadata connection.
func (r *runner) passThrough(ctx context.Context, n *pg.Node) error {
	sql, err := deparse(n)
	if err != nil {
		return err
	}
	rows, err := r.env.Meta.Query(ctx, sql)
	if err != nil {
		return err
	}
	return r.send(rows)
}

// resolve looks table names up as the client's session does (its
// search_path), in one query; a name that does not resolve gets oid 0.
func (r *runner) resolve(ctx context.Context, rvs []*pg.RangeVar) ([]resolved, error) {
	out := make([]resolved, len(rvs))
	if len(rvs) == 0 {
		return out, nil
	}
	names := make([]string, len(rvs))
	for i, rv := range rvs {
		name := quoteIdent(rv.Relname)
		if rv.Schemaname != "" {
			name = quoteIdent(rv.Schemaname) + "." + name
		}
		names[i] = quoteLiteral(name)
	}
	rows, err := r.env.Meta.Query(ctx, `SELECT c.oid, n.nspname, c.relname FROM unnest(ARRAY[`+strings.Join(names, ", ")+
		`]::text[]) WITH ORDINALITY AS u(name, i) LEFT JOIN pg_class c ON c.oid = to_regclass(u.name)
		LEFT JOIN pg_namespace n ON n.oid = c.relnamespace ORDER BY u.i`)
	if err != nil {
		return nil, err
	}
	for i, row := range rows.Values {
		if i >= len(out) || row[0] == nil {
			continue
		}
		oid, _ := strconv.ParseUint(string(row[0]), 10, 32)
		out[i] = resolved{oid: uint32(oid), rel: catalog.RelationName{Schema: string(row[1]), Name: string(row[2])}}
	}
	return out, nil
}

// statementName names a statement for messages ("ALTER TABLE").
func statementName(n *pg.Node) string {
	switch x := n.Node.(type) {
	case *pg.Node_IndexStmt:
		return "CREATE INDEX"
	case *pg.Node_AlterTableStmt:
		return "ALTER TABLE"
	case *pg.Node_RenameStmt:
		return "ALTER TABLE ... RENAME"
	case *pg.Node_DropStmt:
		if x.DropStmt.RemoveType == pg.ObjectType_OBJECT_INDEX {
			return "DROP INDEX"
		}
		return "DROP TABLE"
	case *pg.Node_TruncateStmt:
		return "TRUNCATE"
	}
	fd := n.ProtoReflect().WhichOneof(n.ProtoReflect().Descriptor().Oneofs().Get(0))
	if fd == nil {
		return "statement"
	}
	return strings.ToUpper(strings.ReplaceAll(strings.TrimSuffix(string(fd.Name()), "_stmt"), "_", " "))
}

// checkIndex applies the unique-index rule to CREATE INDEX.
func checkIndex(main catalog.Table, ix *pg.IndexStmt) error {
	if !ix.Unique || main.Method == catalog.MethodReference {
		return nil
	}
	for _, p := range ix.IndexParams {
		if p.GetIndexElem().GetName() == main.Column {
			return nil
		}
	}
	return notSupported("creating unique indexes on non-partition columns is currently unsupported").
		withDetail("A unique index on %s must include its distribution column %s.", main.Relation, main.Column)
}

// checkRename allows renaming tables (outside a transaction block),
// columns and constraints.
func checkRename(r *runner, main catalog.Table, rn *pg.RenameStmt) error {
	switch rn.RenameType {
	case pg.ObjectType_OBJECT_TABLE:
		if r.env.Txn != nil {
			return inBlock("renaming a distributed table")
		}
		return nil
	case pg.ObjectType_OBJECT_COLUMN, pg.ObjectType_OBJECT_TABCONSTRAINT:
		return nil
	}
	return notSupported("this ALTER ... RENAME of %s is not supported by pgfed", main.Relation)
}
