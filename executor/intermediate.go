package executor

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/pgfed/pgfed/catalog"
	"github.com/pgfed/pgfed/planner"
	"github.com/pgfed/pgfed/wire"
)

// colType is a result column's type, for the intermediate result's table.
type colType struct {
	oid uint32
	mod int32
}

// limiter bounds the rows and bytes of one intermediate result.
type limiter struct {
	what              string
	setting           string
	rows, bytes       int64
	maxRows, maxBytes int64
}

// newLimiter returns the limiter of an intermediate result: the session's
// settings, else the handler's defaults.
func (s *Session) newLimiter(what, setting string) *limiter {
	l := &limiter{what: what, setting: setting, maxRows: s.h.cfg.MaxIntermediateRows, maxBytes: s.h.cfg.MaxIntermediateBytes}
	if s.set.maxRows > 0 {
		l.maxRows = s.set.maxRows
	}
	if s.set.maxBytes > 0 {
		l.maxBytes = s.set.maxBytes
	}
	if l.setting == "" {
		l.setting = planner.MaxIntermediateRowsSetting
	}
	return l
}

// add counts a row; past a limit it fails with 54000, naming the setting.
func (l *limiter) add(row [][]byte) error {
	l.rows++
	for _, v := range row {
		l.bytes += int64(len(v))
	}
	if l.rows > l.maxRows {
		return &wire.Error{Code: pgerrcode.ProgramLimitExceeded,
			Message: fmt.Sprintf("the intermediate result of the %s exceeds %s (%d rows)", l.what, l.setting, l.maxRows),
			Hint:    fmt.Sprintf("SET %s to a larger value, or add filters so that fewer rows are pulled to the coordinator.", l.setting)}
	}
	if l.bytes > l.maxBytes {
		return &wire.Error{Code: pgerrcode.ProgramLimitExceeded,
			Message: fmt.Sprintf("the intermediate result of the %s exceeds %s (%d kB)", l.what, settingMaxResultBytes, l.maxBytes/1024),
			Hint:    fmt.Sprintf("SET %s to a larger value (in kB).", settingMaxResultBytes)}
	}
	return nil
}

// execCombine runs a plan whose result is computed on the metadata
// database: its subplans first, each loaded into an intermediate result
// (a temporary table of the session's metadata connection, inside the
// client's transaction); then its own tasks, loaded into Merge.Result;
// then the combine query Merge.SQL over them, whose rows go to the client;
// the temporary tables are dropped at the end (and ON COMMIT DROP if the
// statement fails).
func (s *Session) execCombine(ctx context.Context, st *catalogState, pl *planner.Plan, b *binding, out *output) (string, error) {
	var temps []string
	for _, sp := range pl.Subplans {
		if _, err := s.loadIntermediate(ctx, st, sp.Plan, b, sp.Result, sp.Columns, sp.LimitSetting, sp.Why, out.r); err != nil {
			return "", err
		}
		temps = append(temps, sp.Result)
	}
	if len(pl.Tasks) > 0 && pl.Merge.Result != "" {
		tasks := *pl
		tasks.Subplans = nil
		tasks.Merge = planner.Merge{Kind: planner.MergeConcat}
		tasks.Kind = planner.KindMultiShard
		if _, err := s.loadIntermediate(ctx, st, &tasks, b, pl.Merge.Result, pl.Merge.Columns, planner.MaxIntermediateRowsSetting, "tasks", out.r); err != nil {
			return "", err
		}
		temps = append(temps, pl.Merge.Result)
	}
	vals, formats, _ := b.taskArgs(pl.Merge.Params)
	tag, err := s.meta.internal(ctx, internalQuery{sql: pl.Merge.SQL, params: vals, paramFormats: formats,
		resultFormats: out.formats, notices: true,
		fields: out.fieldsFromMeta,
		row:    func(dr *pgproto3.DataRow) error { return out.row(dr.Values) },
	})
	if err != nil {
		return "", err
	}
	if len(temps) > 0 {
		if _, err := s.meta.internal(ctx, internalQuery{sql: "DROP TABLE " + strings.Join(quoteAll(temps), ", ")}); err != nil {
			return "", err
		}
	}
	return tag, nil
}

// loadIntermediate runs a plan and loads its rows into a new temporary
// table name(columns) on the metadata connection, typed from the result's
// RowDescription, within the row and byte limits.
func (s *Session) loadIntermediate(ctx context.Context, st *catalogState, pl *planner.Plan, b *binding, name string, columns []string, setting, why string, notify wire.Results) ([]pgconn.FieldDescription, error) {
	buf := &output{r: notify, buffer: &distPortal{}, limit: s.newLimiter(why+" into "+name, setting)}
	if _, err := s.execPlan(ctx, st, pl, b, buf); err != nil {
		return nil, err
	}
	types := buf.buffer.types
	if columns == nil {
		for i := range types {
			columns = append(columns, "c"+itoa(i+1))
		}
	}
	if len(types) != len(columns) {
		return nil, internalError("intermediate result %s: %d columns named, %d returned", name, len(columns), len(types))
	}
	var ddl strings.Builder
	ddl.WriteString("CREATE TEMP TABLE " + catalog.QuoteIdentifier(name) + " (")
	for i, c := range columns {
		tn, err := s.h.typeName(ctx, types[i].oid, types[i].mod)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			ddl.WriteString(", ")
		}
		ddl.WriteString(catalog.QuoteIdentifier(c) + " " + tn)
	}
	ddl.WriteString(") ON COMMIT DROP")
	if _, err := s.meta.internal(ctx, internalQuery{sql: ddl.String()}); err != nil {
		return nil, err
	}
	rows := buf.buffer.rows
	_, err := s.meta.internal(ctx, internalQuery{
		sql: "COPY " + catalog.QuoteIdentifier(name) + " FROM STDIN",
		copyIn: func(send func([]byte) error) error {
			var data []byte
			for _, row := range rows {
				data = appendCopyText(data, row)
				if len(data) >= copyFlushSize {
					if err := send(data); err != nil {
						return err
					}
					data = nil
				}
			}
			if len(data) > 0 {
				return send(data)
			}
			return nil
		},
	})
	return buf.buffer.fields, err
}

// appendCopyText appends a row in COPY's text format (tab-separated, \N
// for NULL, backslash escapes).
func appendCopyText(dst []byte, row [][]byte) []byte {
	for i, v := range row {
		if i > 0 {
			dst = append(dst, '\t')
		}
		if v == nil {
			dst = append(dst, '\\', 'N')
			continue
		}
		for _, c := range v {
			switch c {
			case '\\':
				dst = append(dst, '\\', '\\')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, c)
			}
		}
	}
	return append(dst, '\n')
}

// quoteAll quotes identifiers.
func quoteAll(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = catalog.QuoteIdentifier(n)
	}
	return out
}

// itoa formats an int.
func itoa(n int) string { return strconv.Itoa(n) }
