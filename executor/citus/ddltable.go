package citus

import (
	"context"
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/pgfed/pgfed/catalog"
)

// checkAlterTable allows the ALTER TABLE subcommands Citus propagates and
// applies Citus's rules to the constraints they add.
func checkAlterTable(snap *catalog.Snapshot, main catalog.Table, res []resolved, rvs []*pg.RangeVar, at *pg.AlterTableStmt) error {
	if at.Objtype != pg.ObjectType_OBJECT_TABLE {
		return notSupported("ALTER %s on distributed table %s is not supported by pgfed", strings.TrimPrefix(at.Objtype.String(), "OBJECT_"), main.Relation)
	}
	refOf := func(rv *pg.RangeVar) (catalog.Table, bool) {
		for i, x := range rvs {
			if x == rv && res[i].oid != 0 {
				return snap.TableByOID(res[i].oid)
			}
		}
		return catalog.Table{}, false
	}
	for _, c := range at.Cmds {
		cmd := c.GetAlterTableCmd()
		switch cmd.Subtype {
		case pg.AlterTableType_AT_DropColumn, pg.AlterTableType_AT_AlterColumnType:
			if cmd.Name == main.Column || (main.HashColumn != "" && cmd.Name == main.HashColumn) {
				return notSupported("cannot execute ALTER TABLE command involving partition column").
					withDetail("%s is the distribution column of %s.", cmd.Name, main.Relation)
			}
		case pg.AlterTableType_AT_AddColumn:
			cd := cmd.GetDef().GetColumnDef()
			if names := cd.GetTypeName().GetNames(); len(names) > 0 {
				switch names[len(names)-1].GetString_().GetSval() {
				case "serial", "bigserial", "smallserial", "serial2", "serial4", "serial8":
					return notSupported("cannot add serial column %q to distributed table %s: each shard would count on its own", cd.Colname, main.Relation).
						withHint("Add the column with a default that does not depend on the shard, or fill it from the coordinator.")
				}
			}
			for _, cn := range cd.GetConstraints() {
				if cn.GetConstraint().GetContype() == pg.ConstrType_CONSTR_IDENTITY {
					return notSupported("cannot add identity column %q to distributed table %s: each shard would count on its own", cd.Colname, main.Relation)
				}
				if cn.GetConstraint().GetContype() == pg.ConstrType_CONSTR_DEFAULT && callsNextval(cn.GetConstraint().GetRawExpr()) {
					return notSupported("cannot add column %q with a default calling nextval to distributed table %s: its rows on the shards cannot be numbered", cd.Colname, main.Relation).
						withHint("Add the column without the default, fill it, then SET DEFAULT nextval(...): the coordinator computes it for new rows.")
				}
			}
			for _, cn := range cmd.GetDef().GetColumnDef().GetConstraints() {
				if err := checkConstraint(main, cn.GetConstraint(), []string{cmd.GetDef().GetColumnDef().GetColname()}, refOf); err != nil {
					return err
				}
			}
		case pg.AlterTableType_AT_AddConstraint:
			if err := checkConstraint(main, cmd.GetDef().GetConstraint(), nil, refOf); err != nil {
				return err
			}
		case pg.AlterTableType_AT_ColumnDefault, pg.AlterTableType_AT_DropNotNull, pg.AlterTableType_AT_SetNotNull,
			pg.AlterTableType_AT_DropConstraint, pg.AlterTableType_AT_ValidateConstraint,
			pg.AlterTableType_AT_SetStatistics, pg.AlterTableType_AT_SetStorage, pg.AlterTableType_AT_SetCompression,
			pg.AlterTableType_AT_SetRelOptions, pg.AlterTableType_AT_ResetRelOptions, pg.AlterTableType_AT_ReplicaIdentity,
			pg.AlterTableType_AT_EnableRowSecurity, pg.AlterTableType_AT_DisableRowSecurity,
			pg.AlterTableType_AT_ForceRowSecurity, pg.AlterTableType_AT_NoForceRowSecurity,
			pg.AlterTableType_AT_ChangeOwner:
		default:
			return notSupported("alter table command is currently unsupported").
				withDetail("Only ADD|DROP COLUMN, SET|DROP NOT NULL, SET|DROP DEFAULT, ADD|DROP|VALIDATE CONSTRAINT, SET (), RESET (), SET STATISTICS, SET STORAGE, ENABLE|DISABLE|FORCE|NO FORCE ROW LEVEL SECURITY, REPLICA IDENTITY, OWNER TO and TYPE subcommands are supported.")
		}
	}
	return nil
}

// checkConstraint applies Citus's rules to a constraint being added:
// PRIMARY KEY, UNIQUE and EXCLUDE include the distribution column;
// foreign keys go to a reference table or to a co-located table on the
// distribution column. cols are the column's own name for a column
// constraint.
func checkConstraint(main catalog.Table, con *pg.Constraint, cols []string, refOf func(*pg.RangeVar) (catalog.Table, bool)) error {
	if con == nil {
		return nil
	}
	names := func(ns []*pg.Node) []string {
		var out []string
		for _, n := range ns {
			if s := n.GetString_(); s != nil {
				out = append(out, s.Sval)
			}
			if e := n.GetIndexElem(); e != nil {
				out = append(out, e.Name)
			}
			if l := n.GetList(); l != nil && len(l.Items) > 0 {
				if e := l.Items[0].GetIndexElem(); e != nil {
					out = append(out, e.Name)
				}
			}
		}
		return out
	}
	switch con.Contype {
	case pg.ConstrType_CONSTR_PRIMARY, pg.ConstrType_CONSTR_UNIQUE, pg.ConstrType_CONSTR_EXCLUSION:
		if main.Method == catalog.MethodReference {
			return nil
		}
		keys := cols
		if len(keys) == 0 {
			keys = names(con.Keys)
			if con.Contype == pg.ConstrType_CONSTR_EXCLUSION {
				keys = names(con.Exclusions)
			}
		}
		for _, k := range keys {
			if k == main.Column {
				return nil
			}
		}
		if con.Indexname != "" {
			return notSupported("ADD CONSTRAINT ... USING INDEX is not supported on distributed table %s", main.Relation)
		}
		return notSupported("cannot create constraint on \"%s\"", main.Relation.Name).
			withDetail("Distributed relations cannot have UNIQUE, EXCLUDE, or PRIMARY KEY constraints that do not include the partition column (with an equality operator if EXCLUDE).")
	case pg.ConstrType_CONSTR_FOREIGN:
		ref, ok := refOf(con.Pktable)
		if !ok {
			return notSupported("referenced table \"%s\" must be a distributed table or a reference table", con.Pktable.Relname)
		}
		if ref.Method == catalog.MethodReference {
			return nil
		}
		if main.Method == catalog.MethodReference {
			return notSupported("cannot create foreign key constraint since foreign keys from reference tables and local tables to distributed tables are not supported")
		}
		fk := cols
		if len(fk) == 0 {
			fk = names(con.FkAttrs)
		}
		pk := names(con.PkAttrs)
		if len(pk) == 0 && len(fk) == 1 {
			pk = []string{ref.Column} // the referenced table's primary key, which holds its distribution column
		}
		if ref.ColocationID == main.ColocationID {
			for i := range fk {
				if fk[i] == main.Column && i < len(pk) && pk[i] == ref.Column {
					return nil
				}
			}
		}
		return notSupported("cannot create foreign key constraint").
			withDetail("Foreign keys are supported in two cases, either in between two colocated tables including partition column in the same ordinal in the both tables or from distributed to reference tables")
	}
	return nil
}

// dropTable drops distributed tables (with any local ones the statement
// names): catalog rows, shell and shards in one change. Refused in a
// transaction block.
func (r *runner) dropTable(ctx context.Context, snap *catalog.Snapshot, n *pg.Node, d *pg.DropStmt) error {
	rvs := make([]*pg.RangeVar, len(d.Objects))
	for i, o := range d.Objects {
		rvs[i] = nameRangeVar(o)
	}
	res, err := r.resolve(ctx, rvs)
	if err != nil {
		return err
	}
	var dist []catalog.Table
	for i, o := range d.Objects {
		if res[i].oid == 0 {
			continue
		}
		// Qualify the name in the statement.
		o.GetList().Items = []*pg.Node{pg.MakeStrNode(res[i].rel.Schema), pg.MakeStrNode(res[i].rel.Name)}
		if t, ok := snap.TableByOID(res[i].oid); ok {
			dist = append(dist, t)
		}
	}
	if len(dist) == 0 {
		return r.passThrough(ctx, n)
	}
	return r.dropTables(ctx, snap, n, dist, d.Behavior == pg.DropBehavior_DROP_CASCADE)
}

// dropTables runs a DROP that removes distributed tables (DROP TABLE,
// DROP SCHEMA): their catalog rows, the statement on the shells and the
// shard tables on every placement, in one change. Refused in a
// transaction block.
func (r *runner) dropTables(ctx context.Context, snap *catalog.Snapshot, n *pg.Node, dist []catalog.Table, cascadeAll bool) error {
	if len(dist) == 0 {
		return r.passThrough(ctx, n)
	}
	cascade := ""
	if cascadeAll {
		cascade = " CASCADE"
	}
	perNode := map[int32][]string{}
	for _, t := range dist {
		for _, s := range snap.ShardsOf(t.Relation) {
			for _, p := range snap.PlacementsOf(s.ID) {
				perNode[p.NodeID] = append(perNode[p.NodeID], "DROP TABLE IF EXISTS "+s.QualifiedName()+cascade)
			}
		}
	}
	return r.apply(ctx, n, perNode, func(ctx context.Context, c *change) error {
		for _, t := range dist {
			if err := c.tx.RemoveTable(ctx, t.Relation); err != nil {
				return err
			}
		}
		return nil
	})
}

// nameRangeVar turns a DROP object name (a list of strings) into a
// RangeVar.
func nameRangeVar(o *pg.Node) *pg.RangeVar {
	var parts []string
	for _, it := range o.GetList().GetItems() {
		parts = append(parts, it.GetString_().GetSval())
	}
	rv := &pg.RangeVar{}
	switch len(parts) {
	case 1:
		rv.Relname = parts[0]
	case 2:
		rv.Schemaname, rv.Relname = parts[0], parts[1]
	case 3:
		rv.Catalogname, rv.Schemaname, rv.Relname = parts[0], parts[1], parts[2]
	}
	return rv
}

// dropIndex drops indexes; those of distributed tables also on every
// shard (<index>_<shardid>).
func (r *runner) dropIndex(ctx context.Context, snap *catalog.Snapshot, n *pg.Node, d *pg.DropStmt) error {
	if d.Concurrent {
		d.Concurrent = false
	}
	rvs := make([]*pg.RangeVar, len(d.Objects))
	for i, o := range d.Objects {
		rvs[i] = nameRangeVar(o)
	}
	names := make([]string, len(rvs))
	for i, rv := range rvs {
		name := quoteIdent(rv.Relname)
		if rv.Schemaname != "" {
			name = quoteIdent(rv.Schemaname) + "." + name
		}
		names[i] = quoteLiteral(name)
	}
	rows, err := r.env.Meta.Query(ctx, `SELECT i.indrelid, n.nspname, c.relname FROM unnest(ARRAY[`+strings.Join(names, ", ")+
		`]::text[]) WITH ORDINALITY AS u(name, k) LEFT JOIN pg_index i ON i.indexrelid = to_regclass(u.name)
		LEFT JOIN pg_class c ON c.oid = i.indexrelid LEFT JOIN pg_namespace n ON n.oid = c.relnamespace ORDER BY u.k`)
	if err != nil {
		return err
	}
	cascade := ""
	if d.Behavior == pg.DropBehavior_DROP_CASCADE {
		cascade = " CASCADE"
	}
	perNode := map[int32][]string{}
	for i, row := range rows.Values {
		if row[0] == nil {
			continue
		}
		d.Objects[i].GetList().Items = []*pg.Node{pg.MakeStrNode(string(row[1])), pg.MakeStrNode(string(row[2]))}
		oid, _ := strconv.ParseUint(string(row[0]), 10, 32)
		t, ok := snap.TableByOID(uint32(oid))
		if !ok {
			continue
		}
		for _, s := range snap.ShardsOf(t.Relation) {
			idx := catalog.RelationName{Schema: string(row[1]), Name: catalog.ShardName(string(row[2]), s.ID)}
			for _, p := range snap.PlacementsOf(s.ID) {
				perNode[p.NodeID] = append(perNode[p.NodeID], "DROP INDEX IF EXISTS "+idx.String()+cascade)
			}
		}
	}
	if len(perNode) == 0 {
		return r.passThrough(ctx, n)
	}
	return r.apply(ctx, n, perNode, nil)
}

// truncate empties tables: the shells and, on each worker, every shard of
// the distributed ones placed there, in one TRUNCATE per worker (so that
// shards that reference each other go together).
func (r *runner) truncate(ctx context.Context, snap *catalog.Snapshot, n *pg.Node, tr *pg.TruncateStmt) error {
	perNode := map[int32][]string{}
	seen := map[int64]bool{}
	for _, rn := range tr.Relations {
		rv := rn.GetRangeVar()
		t, ok := snap.Table(rv.GetSchemaname(), rv.GetRelname())
		if !ok {
			continue
		}
		for _, s := range snap.ShardsOf(t.Relation) {
			if seen[s.ID] {
				continue
			}
			seen[s.ID] = true
			for _, p := range snap.PlacementsOf(s.ID) {
				perNode[p.NodeID] = append(perNode[p.NodeID], s.QualifiedName())
			}
		}
	}
	tail := ""
	if tr.Behavior == pg.DropBehavior_DROP_CASCADE {
		tail = " CASCADE"
	}
	for id, names := range perNode {
		perNode[id] = []string{"TRUNCATE TABLE " + strings.Join(names, ", ") + tail}
	}
	if tr.RestartSeqs {
		return notSupported("TRUNCATE ... RESTART IDENTITY is not supported on distributed tables")
	}
	return r.apply(ctx, n, perNode, nil)
}

// vacuum runs VACUUM or ANALYZE on the shells (on the metadata
// connection), then on each worker, outside any transaction, for every
// shard of the distributed tables placed there. Like Citus's, it is not
// atomic: it changes no data.
func (r *runner) vacuum(ctx context.Context, snap *catalog.Snapshot, n *pg.Node, v *pg.VacuumStmt) error {
	sql, err := deparse(n)
	if err != nil {
		return err
	}
	rows, err := r.env.Meta.Query(ctx, sql)
	if err != nil {
		return err
	}
	perNode := map[int32][]*pg.Node{}
	for _, rel := range v.Rels {
		vr := rel.GetVacuumRelation()
		t, ok := snap.Table(vr.GetRelation().GetSchemaname(), vr.GetRelation().GetRelname())
		if !ok {
			continue
		}
		for _, s := range snap.ShardsOf(t.Relation) {
			for _, p := range snap.PlacementsOf(s.ID) {
				perNode[p.NodeID] = append(perNode[p.NodeID], &pg.Node{Node: &pg.Node_VacuumRelation{VacuumRelation: &pg.VacuumRelation{
					Relation: &pg.RangeVar{Schemaname: s.Table.Schema, Relname: s.Name(), Inh: true, Relpersistence: "p"},
					VaCols:   vr.VaCols}}})
			}
		}
	}
	for _, id := range sortedNodes(perNode) {
		w := &pg.VacuumStmt{Options: v.Options, Rels: perNode[id], IsVacuumcmd: v.IsVacuumcmd}
		wsql, err := deparse(&pg.Node{Node: &pg.Node_VacuumStmt{VacuumStmt: w}})
		if err != nil {
			return err
		}
		if _, err := r.workerQuery(ctx, id, wsql); err != nil {
			return &WorkerError{Node: id, Err: err}
		}
	}
	return r.complete(rows.Tag)
}
