package executor

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgerrcode"

	"github.com/pgfed/pgfed/planner"
	"github.com/pgfed/pgfed/wire"
)

// defaultMaxShippedRows bounds the rows of a subquery result shipped to
// the workers as a constant array, unless the session sets
// pgfed.max_shipped_rows (planner.MaxShippedRowsSetting).
const defaultMaxShippedRows = 1000

// execShipped runs a plan with shipped subqueries (planner/ship.go): each
// subquery first, its rows collected within pgfed.max_shipped_rows; then
// the plan with every marker replaced by its array literal. When a
// subquery returns more rows, the plan's Fallback (a pull) runs instead.
func (s *Session) execShipped(ctx context.Context, st *catalogState, pl *planner.Plan, b *binding, out *output) (string, error) {
	resolved, err := s.resolveShipped(ctx, st, pl, b, out.r)
	if err != nil {
		return "", err
	}
	return s.execPlan(ctx, st, resolved, b, out)
}

// resolveShipped returns the plan to run in place of a plan with shipped
// subqueries: a copy with the subqueries' results in its SQL, or its
// Fallback when one has too many rows (an error naming the setting when
// it has none).
func (s *Session) resolveShipped(ctx context.Context, st *catalogState, pl *planner.Plan, b *binding, notify wire.Results) (*planner.Plan, error) {
	arrays := make([]string, len(pl.Shipped))
	for i, sh := range pl.Shipped {
		lim := s.newLimiter("shipped subquery "+sh.Marker, sh.LimitSetting)
		lim.maxRows = defaultMaxShippedRows
		if s.set.maxShipped > 0 {
			lim.maxRows = s.set.maxShipped
		}
		buf := &output{r: notify, buffer: &distPortal{}, limit: lim}
		if _, err := s.execPlan(ctx, st, sh.Plan, b, buf); err != nil {
			var we *wire.Error
			if lim.rows > lim.maxRows && pl.Fallback != nil && errors.As(err, &we) && we.Code == pgerrcode.ProgramLimitExceeded {
				s.log.Debug("shipped subquery past its limit, pulling instead", "rows", lim.rows, "limit", lim.maxRows)
				return pl.Fallback, nil
			}
			return nil, err
		}
		var lit string
		var err error
		switch {
		case !sh.Scalar:
			lit, err = s.arrayLiteral(ctx, buf.buffer)
			if errors.Is(err, errArrayOfArrays) && pl.Fallback != nil {
				return pl.Fallback, nil
			}
		case len(buf.buffer.rows) > 1 && pl.Fallback != nil:
			return pl.Fallback, nil // which fails as PostgreSQL does
		case len(buf.buffer.rows) > 1:
			return nil, &wire.Error{Code: pgerrcode.CardinalityViolation,
				Message: "more than one row returned by a subquery used as an expression"}
		default:
			lit, err = s.scalarLiteral(ctx, buf.buffer)
		}
		if err != nil {
			return nil, err
		}
		arrays[i] = lit
	}
	np := *pl
	np.Shipped, np.Fallback = nil, nil
	replace := func(sql string) string {
		for i, sh := range pl.Shipped {
			sql = strings.ReplaceAll(sql, sh.Marker, arrays[i])
		}
		return sql
	}
	np.Tasks = make([]planner.Task, len(pl.Tasks))
	for i, t := range pl.Tasks {
		t.SQL = replace(t.SQL)
		np.Tasks[i] = t
	}
	np.Merge.SQL = replace(pl.Merge.SQL)
	return &np, nil
}

// errArrayOfArrays is arrayLiteral's error for a column of an array
// type: PostgreSQL has no arrays of arrays to compare each value with.
var errArrayOfArrays = &wire.Error{Code: pgerrcode.FeatureNotSupported,
	Message: "a subquery returning arrays cannot be shipped to the shards as a constant array"}

// arrayLiteral returns the SQL array literal of a one-column result:
// '{...}'::type[] with the column's type ('{}' when the result has no
// description), its elements in text format.
func (s *Session) arrayLiteral(ctx context.Context, res *distPortal) (string, error) {
	var b strings.Builder
	b.WriteString("'{")
	for i, row := range res.rows {
		if len(row) != 1 {
			return "", internalError("a shipped subquery returned %d columns", len(row))
		}
		if i > 0 {
			b.WriteByte(',')
		}
		if row[0] == nil {
			b.WriteString("NULL")
			continue
		}
		b.WriteByte('"')
		for _, c := range row[0] {
			switch c {
			case '\\', '"':
				b.WriteByte('\\')
				b.WriteByte(c)
			case '\'':
				b.WriteString("''")
			default:
				b.WriteByte(c)
			}
		}
		b.WriteByte('"')
	}
	b.WriteString("}'")
	if len(res.types) == 1 {
		if len(res.fields) == 1 && res.fields[0].Format != 0 {
			return "", internalError("a shipped subquery's rows are not in text format")
		}
		name, err := s.h.typeName(ctx, res.types[0].oid, res.types[0].mod)
		if err != nil {
			return "", err
		}
		if strings.HasSuffix(name, "]") {
			return "", errArrayOfArrays
		}
		b.WriteString("::" + name + "[]")
	}
	return b.String(), nil
}

// scalarLiteral returns the SQL literal of a scalar subquery's result of
// at most one row: ('v'::type), or (NULL::type) for no row or a NULL
// ('v' and NULL untyped when the result has no description).
func (s *Session) scalarLiteral(ctx context.Context, res *distPortal) (string, error) {
	val := "NULL"
	if len(res.rows) == 1 {
		if len(res.rows[0]) != 1 {
			return "", internalError("a shipped subquery returned %d columns", len(res.rows[0]))
		}
		if v := res.rows[0][0]; v != nil {
			val = "'" + strings.ReplaceAll(string(v), "'", "''") + "'"
		}
	}
	if len(res.types) != 1 {
		return "(" + val + ")", nil
	}
	if len(res.fields) == 1 && res.fields[0].Format != 0 {
		return "", internalError("a shipped subquery's rows are not in text format")
	}
	name, err := s.h.typeName(ctx, res.types[0].oid, res.types[0].mod)
	if err != nil {
		return "", err
	}
	return "(" + val + "::" + name + ")", nil
}
