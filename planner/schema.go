package planner

import (
	"strings"

	"github.com/pgfed/pgfed/catalog"
)

// Column is one column of a table, as the metadata database declares it.
type Column struct {
	// Name is the column's name, as stored (case kept).
	Name string
	// Type is the column's type OID (a catalog.Type; any OID, hashable or
	// not). 0 when unknown.
	Type catalog.Type
	// Collation names the column's collation ("" for the default); sort
	// keys on a column with a collation are merged by the combine query,
	// never in Go.
	Collation string
}

// TableDef is the shape of one table the statement may name: a
// distributed or reference table's shell or a local table.
type TableDef struct {
	// Relation is the table's schema-qualified name.
	Relation catalog.RelationName
	// Columns lists the columns in attribute order (dropped ones left
	// out).
	Columns []Column
	// PrimaryKey names the columns of the table's primary key, in key
	// order; nil when it has none or it is unknown. A grouped query may
	// read any column of a table whose key it groups by; the planner
	// needs the key to keep that true over a pulled copy of the table.
	PrimaryKey []string
}

// Schema is what the planner needs to know about the relations a statement
// names, beyond the catalog: their columns, the search path that resolves
// unqualified names, and the names of user-defined aggregates. The
// executor builds it from the metadata database (pg_attribute,
// search_path, pg_aggregate). A Schema is immutable after NewSchema and safe
// for concurrent use.
type Schema struct {
	searchPath []string
	tables     map[catalog.RelationName]*TableDef
	aggregates map[string]bool
	// views are the views over distributed tables (WithViews).
	views map[catalog.RelationName]*view
}

// NewSchema returns a Schema with the given search path (nil means
// ["public"]), tables, and user-defined aggregate function names (lower
// case, unqualified).
func NewSchema(searchPath []string, tables []TableDef, aggregates ...string) *Schema {
	if searchPath == nil {
		searchPath = []string{"public"}
	}
	s := &Schema{searchPath: append([]string(nil), searchPath...),
		tables: map[catalog.RelationName]*TableDef{}, aggregates: map[string]bool{}}
	for i := range tables {
		t := tables[i]
		t.Columns = append([]Column(nil), t.Columns...)
		t.PrimaryKey = append([]string(nil), t.PrimaryKey...)
		s.tables[t.Relation] = &t
	}
	for _, a := range aggregates {
		s.aggregates[strings.ToLower(a)] = true
	}
	return s
}

// SearchPath returns the schemas searched for unqualified names, in order.
func (s *Schema) SearchPath() []string {
	if s == nil {
		return []string{"public"}
	}
	return append([]string(nil), s.searchPath...)
}

// Table returns the definition of a relation, if the schema has one.
func (s *Schema) Table(r catalog.RelationName) (*TableDef, bool) {
	if s == nil {
		return nil, false
	}
	t, ok := s.tables[r]
	return t, ok
}

// isAggregate reports whether name is a user-defined aggregate.
func (s *Schema) isAggregate(name string) bool { return s != nil && s.aggregates[name] }

// column returns the index of a column by name, -1 when absent.
func (t *TableDef) column(name string) int {
	for i, c := range t.Columns {
		if c.Name == name {
			return i
		}
	}
	return -1
}
