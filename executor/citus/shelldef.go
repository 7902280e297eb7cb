package citus

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5"
	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/pgfed/pgfed/catalog"
	"github.com/pgfed/pgfed/catalog/store"
)

// shell is a shell table's definition, read in the catalog transaction.
type shell struct {
	oid         uint32
	rel         catalog.RelationName
	relkind     string
	persistence string
	columns     []shellColumn
	constraints []shellConstraint
	// indexes are CREATE INDEX statements of indexes that back no
	// constraint, with names qualified.
	indexes []string
	// uniques are the unique indexes (with their constraints), by name,
	// with their key columns (attnums; 0 for an expression).
	uniques map[string][]int16
	// referencedBy names the other tables whose foreign keys point here
	// (quoted, qualified), with their OIDs in referencedByOID.
	referencedBy    []string
	referencedByOID []uint32
}

// shellColumn is a column of a shell table.
type shellColumn struct {
	name     string
	attnum   int16
	typ      string // format_type
	typeOID  uint32 // the base type for a domain
	notNull  bool
	def      *string // the default expression, if any
	gen      string  // "s" for a stored generated column
	identity string  // "a" or "d" for an identity column
	collate  *string // a collation other than the type's, quoted
}

// shellConstraint is a table constraint (not NOT NULL).
type shellConstraint struct {
	name      string
	typ       byte // p, u, c, x, f
	def       string
	cols      []string // the constrained columns (conkey)
	refTable  uint32   // foreign key: the referenced table
	refCols   []string // foreign key: the referenced columns
	refSchema string
	refName   string
}

// readShell reads a table's definition in tx, with every name qualified
// (search_path is pg_catalog for the reading, then restored).
func readShell(ctx context.Context, tx *store.Tx, oid uint32) (*shell, error) {
	var path string
	if err := queryRow(ctx, tx, "SELECT current_setting('search_path')", nil, &path); err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, "SELECT set_config('search_path', 'pg_catalog', true)"); err != nil {
		return nil, err
	}
	sh, err := readShellQualified(ctx, tx, oid)
	if _, rerr := tx.Exec(ctx, "SELECT set_config('search_path', $1, true)", path); rerr != nil && err == nil {
		err = rerr
	}
	return sh, err
}

// queryRow scans one row of a query run in tx.
func queryRow(ctx context.Context, tx *store.Tx, sql string, args []any, dest ...any) error {
	rows, err := tx.Query(ctx, sql, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	if err := rows.Scan(dest...); err != nil {
		return err
	}
	rows.Close()
	return rows.Err()
}

func readShellQualified(ctx context.Context, tx *store.Tx, oid uint32) (*shell, error) {
	sh := &shell{oid: oid, uniques: map[string][]int16{}}
	err := queryRow(ctx, tx, `SELECT n.nspname, c.relname, c.relkind::text, c.relpersistence::text
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1`, []any{oid},
		&sh.rel.Schema, &sh.rel.Name, &sh.relkind, &sh.persistence)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errorf(pgerrcode.UndefinedTable, "relation with OID %d does not exist", oid)
	}
	if err != nil {
		return nil, err
	}
	rows, err := tx.Query(ctx, `SELECT a.attname, a.attnum, format_type(a.atttypid, a.atttypmod),
			CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE a.atttypid END,
			a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attgenerated::text, a.attidentity::text,
			CASE WHEN a.attcollation <> t.typcollation THEN quote_ident(co.collname) END
		FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
		LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
		LEFT JOIN pg_collation co ON co.oid = a.attcollation
		WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`, oid)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var c shellColumn
		if err := rows.Scan(&c.name, &c.attnum, &c.typ, &c.typeOID, &c.notNull, &c.def, &c.gen, &c.identity, &c.collate); err != nil {
			rows.Close()
			return nil, err
		}
		sh.columns = append(sh.columns, c)
	}
	if rows.Err() != nil {
		return nil, rows.Err()
	}
	rows, err = tx.Query(ctx, `SELECT c.conname, c.contype::text, pg_get_constraintdef(c.oid),
			ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
				JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i),
			c.confrelid,
			ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, i)
				JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i),
			coalesce(rn.nspname, ''), coalesce(rc.relname, '')
		FROM pg_constraint c LEFT JOIN pg_class rc ON rc.oid = c.confrelid
		LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
		WHERE c.conrelid = $1 AND c.contype IN ('p', 'u', 'c', 'x', 'f')
		ORDER BY c.contype = 'f', c.conname`, oid)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var c shellConstraint
		var typ string
		if err := rows.Scan(&c.name, &typ, &c.def, &c.cols, &c.refTable, &c.refCols, &c.refSchema, &c.refName); err != nil {
			rows.Close()
			return nil, err
		}
		c.typ = typ[0]
		sh.constraints = append(sh.constraints, c)
	}
	if rows.Err() != nil {
		return nil, rows.Err()
	}
	rows, err = tx.Query(ctx, `SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid), i.indisunique, i.indkey::int2[],
			EXISTS (SELECT FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid)
		FROM pg_index i WHERE i.indrelid = $1 ORDER BY i.indexrelid`, oid)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var name, def string
		var unique, backs bool
		var keys []int16
		if err := rows.Scan(&name, &def, &unique, &keys, &backs); err != nil {
			rows.Close()
			return nil, err
		}
		if unique {
			sh.uniques[name] = keys
		}
		if !backs {
			sh.indexes = append(sh.indexes, def)
		}
	}
	if rows.Err() != nil {
		return nil, rows.Err()
	}
	rows, err = tx.Query(ctx, `SELECT DISTINCT r.oid, format('%I.%I', n.nspname, r.relname) FROM pg_constraint c
		JOIN pg_class r ON r.oid = c.conrelid JOIN pg_namespace n ON n.oid = r.relnamespace
		WHERE c.confrelid = $1 AND c.conrelid <> $1 AND c.contype = 'f' ORDER BY 2`, oid)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var o uint32
		var name string
		if err := rows.Scan(&o, &name); err != nil {
			rows.Close()
			return nil, err
		}
		sh.referencedByOID = append(sh.referencedByOID, o)
		sh.referencedBy = append(sh.referencedBy, name)
	}
	return sh, rows.Err()
}

// column returns a column by name.
func (sh *shell) column(name string) (shellColumn, bool) {
	for _, c := range sh.columns {
		if c.name == name {
			return c, true
		}
	}
	return shellColumn{}, false
}

// columnList is the quoted column list, for COPY.
func (sh *shell) columnList() string {
	names := make([]string, 0, len(sh.columns))
	for _, c := range sh.columns {
		if c.gen == "" {
			names = append(names, quoteIdent(c.name))
		}
	}
	return "(" + strings.Join(names, ", ") + ")"
}

// copyColumns returns the indexes (in sh.columns) of the columns COPY
// moves (all but generated ones).
func (sh *shell) copyColumns() []int {
	var out []int
	for i, c := range sh.columns {
		if c.gen == "" {
			out = append(out, i)
		}
	}
	return out
}

// ddl returns the statements that create the shell's shape (with
// qualified names, on the shell itself): CREATE TABLE with columns and
// defaults, then its constraints, its other indexes, its foreign keys. Defaults that
// call nextval and identity columns are left out: shards never generate
// those values, the coordinator does.
func (sh *shell) ddl() []string {
	var b strings.Builder
	b.WriteString("CREATE ")
	if sh.persistence == "u" {
		b.WriteString("UNLOGGED ")
	}
	b.WriteString("TABLE " + sh.rel.String() + " (")
	for i, c := range sh.columns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteIdent(c.name) + " " + c.typ)
		if c.collate != nil {
			b.WriteString(" COLLATE " + *c.collate)
		}
		switch {
		case c.gen == "s" && c.def != nil:
			b.WriteString(" GENERATED ALWAYS AS (" + *c.def + ") STORED")
		case c.def != nil && c.identity == "" && !strings.Contains(*c.def, "nextval("):
			b.WriteString(" DEFAULT " + *c.def)
		}
		if c.notNull {
			b.WriteString(" NOT NULL")
		}
	}
	b.WriteString(")")
	out := []string{b.String()}
	out = append(out, sh.constraintDDL(false)...)
	out = append(out, sh.indexes...)
	return append(out, sh.constraintDDL(true)...)
}

// constraintDDL returns the statements adding the shell's foreign keys
// (fkeys) or its other constraints.
func (sh *shell) constraintDDL(fkeys bool) []string {
	var out []string
	for _, c := range sh.constraints {
		if (c.typ == 'f') == fkeys {
			out = append(out, fmt.Sprintf("ALTER TABLE %s ADD CONSTRAINT %s %s", sh.rel, quoteIdent(c.name), c.def))
		}
	}
	return out
}

// shardStatements returns the shell's DDL for one shard: every statement
// parsed, renamed by rn and deparsed.
func shardStatements(stmts []string, rn renamer) ([]string, error) {
	out := make([]string, 0, len(stmts))
	for _, s := range stmts {
		tree, err := pg.Parse(s)
		if err != nil {
			return nil, errorf(pgerrcode.InternalError, "parse the shell's DDL %q: %v", s, err)
		}
		for _, st := range tree.Stmts {
			rn.apply(st.Stmt)
			d, err := deparse(st.Stmt)
			if err != nil {
				return nil, err
			}
			out = append(out, d)
		}
	}
	return out, nil
}

// joinStatements joins statements into one simple-protocol batch.
func joinStatements(stmts []string) string { return strings.Join(stmts, ";\n") }

// sortedNodes returns a map's node ids in order.
func sortedNodes[V any](m map[int32]V) []int32 {
	ids := make([]int32, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
