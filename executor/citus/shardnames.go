package citus

import (
	pg "github.com/pganalyze/pg_query_go/v5"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/pgfed/pgfed/catalog"
)

// renamer turns a statement about shell tables into the statement about
// one shard of each: table names (qualified in the tree beforehand) are
// replaced by the shard's, and the names of indexes and constraints the
// statement creates, drops or renames on the main table get the main
// shard's suffix, as Citus names them: <name>_<shardid>.
type renamer struct {
	// tables maps shell tables to the shard table of this statement.
	tables map[catalog.RelationName]string
	// shardID is the main table's shard, whose id suffixes index and
	// constraint names.
	shardID int64
}

// suffixed returns name with the shard suffix.
func (rn renamer) suffixed(name string) string {
	if name == "" {
		return ""
	}
	return catalog.ShardName(name, rn.shardID)
}

// apply renames in place (on a clone of the shell's tree).
func (rn renamer) apply(n *pg.Node) {
	walk(n, func(m protoreflect.Message) bool {
		switch x := m.Interface().(type) {
		case *pg.RangeVar:
			if s, ok := rn.tables[catalog.RelationName{Schema: x.Schemaname, Name: x.Relname}]; ok {
				x.Relname = s
			}
		case *pg.IndexStmt:
			x.Idxname = rn.suffixed(x.Idxname)
		case *pg.Constraint:
			x.Conname = rn.suffixed(x.Conname)
			x.Indexname = rn.suffixed(x.Indexname)
		case *pg.AlterTableCmd:
			switch x.Subtype {
			case pg.AlterTableType_AT_DropConstraint, pg.AlterTableType_AT_ValidateConstraint,
				pg.AlterTableType_AT_AlterConstraint:
				x.Name = rn.suffixed(x.Name)
			case pg.AlterTableType_AT_ClusterOn, pg.AlterTableType_AT_ReplicaIdentity:
				x.Name = rn.suffixed(x.Name)
			}
			if ri := x.GetDef().GetReplicaIdentityStmt(); ri != nil {
				ri.Name = rn.suffixed(ri.Name)
			}
		case *pg.RenameStmt:
			switch x.RenameType {
			case pg.ObjectType_OBJECT_TABCONSTRAINT:
				x.Subname = rn.suffixed(x.Subname)
				x.Newname = rn.suffixed(x.Newname)
			case pg.ObjectType_OBJECT_TABLE:
				x.Newname = rn.suffixed(x.Newname)
			}
		}
		return true
	})
}
