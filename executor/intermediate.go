package executor

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/pgfed/pgfed/catalog"
	"github.com/pgfed/pgfed/executor/copytext"
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
// RowDescription, within the row and byte limits; nil columns are named
// c1, c2, ... A plan whose rows need no merge streams them from the
// workers into the table as they come; others are computed first. It
// returns the workers' description of the rows, when they gave it.
func (s *Session) loadIntermediate(ctx context.Context, st *catalogState, pl *planner.Plan, b *binding, name string, columns []string, setting, why string, notify wire.Results) ([]pgconn.FieldDescription, error) {
	lim := s.newLimiter(why+" into "+name, setting)
	if streamable(pl) {
		var log *output
		if notify != nil {
			log = &output{r: notify}
		}
		return s.streamIntermediate(ctx, st, pl, b, name, columns, lim, log)
	}
	buf := &output{r: notify, buffer: &distPortal{}, limit: lim}
	if _, err := s.execPlan(ctx, st, pl, b, buf); err != nil {
		return nil, err
	}
	err := s.fillIntermediate(ctx, name, columns, buf.buffer.types, func(yield func([][]byte) error) error {
		for _, row := range buf.buffer.rows {
			if err := yield(row); err != nil {
				return err
			}
		}
		return nil
	})
	return buf.buffer.fields, err
}

// streamable reports whether a plan's rows are its tasks' rows as they
// come (no merge, no limit, no subplan).
func streamable(pl *planner.Plan) bool {
	if len(pl.Subplans) > 0 || len(pl.Shipped) > 0 || len(pl.Tasks) == 0 || pl.Kind == planner.KindCoordinator {
		return false
	}
	if pl.Kind == planner.KindRouter {
		return true
	}
	m := pl.Merge
	return m.Kind == planner.MergeConcat && m.Limit == nil && m.Offset == nil && m.Output == 0
}

// streamIntermediate loads a streamable plan's rows: the tasks run on
// their goroutines (fanOut, on a goroutine of its own that this function
// waits for) while this one writes their rows to the metadata database's
// COPY, so the rows are never all held in memory. notify, when set, gets
// the citus.log_remote_commands notices (sent before any row is read, so
// only one goroutine writes to the client at a time).
func (s *Session) streamIntermediate(ctx context.Context, st *catalogState, pl *planner.Plan, b *binding, name string, columns []string, lim *limiter, notify *output) ([]pgconn.FieldDescription, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan taskBatch, 4)
	done := make(chan struct{})
	var ferr error
	go func() {
		defer close(done)
		defer close(batches)
		ferr = s.fanOut(ctx, st, pl, b, nil, notify, func(bt taskBatch) error {
			select {
			case batches <- bt:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	stop := func() {
		cancel()
		for range batches {
		}
		<-done
	}
	var fields []pgconn.FieldDescription
	var early []taskBatch
	for fields == nil {
		bt, ok := <-batches
		if !ok {
			break
		}
		early = append(early, bt)
		fields = bt.fields
	}
	if fields == nil {
		stop()
		if ferr != nil {
			return nil, ferr
		}
		return nil, internalError("intermediate result %s: no task described its rows", name)
	}
	types := make([]colType, len(fields))
	for i, f := range fields {
		types[i] = colType{oid: f.DataTypeOID, mod: f.TypeModifier}
	}
	err := s.fillIntermediate(ctx, name, columns, types, func(yield func([][]byte) error) error {
		put := func(bt taskBatch) error {
			for _, row := range bt.rows {
				if err := lim.add(row); err != nil {
					return err
				}
				if err := yield(row); err != nil {
					return err
				}
			}
			return nil
		}
		for _, bt := range early {
			if err := put(bt); err != nil {
				return err
			}
		}
		for bt := range batches {
			if err := put(bt); err != nil {
				return err
			}
		}
		return nil
	})
	stop()
	// A worker's failure explains a short COPY; a failure of the COPY
	// (the limit) explains the workers' statements cancelled after it.
	if ferr != nil && ferr != context.Canceled && (err == nil || !errors.Is(ferr, context.Canceled)) {
		return nil, ferr
	}
	return fields, err
}

// fillIntermediate creates the temporary table name(columns) with the
// given column types and loads the rows feed yields with COPY.
func (s *Session) fillIntermediate(ctx context.Context, name string, columns []string, types []colType, feed func(yield func([][]byte) error) error) error {
	if columns == nil {
		for i := range types {
			columns = append(columns, "c"+itoa(i+1))
		}
	}
	if len(types) != len(columns) {
		return internalError("intermediate result %s: %d columns named, %d returned", name, len(columns), len(types))
	}
	var ddl strings.Builder
	ddl.WriteString("CREATE TEMP TABLE " + catalog.QuoteIdentifier(name) + " (")
	for i, c := range columns {
		tn, err := s.h.typeName(ctx, types[i].oid, types[i].mod)
		if err != nil {
			return err
		}
		if i > 0 {
			ddl.WriteString(", ")
		}
		ddl.WriteString(catalog.QuoteIdentifier(c) + " " + tn)
	}
	ddl.WriteString(") ON COMMIT DROP")
	if _, err := s.meta.internal(ctx, internalQuery{sql: ddl.String()}); err != nil {
		return err
	}
	_, err := s.meta.internal(ctx, internalQuery{
		sql: "COPY " + catalog.QuoteIdentifier(name) + " FROM STDIN",
		copyIn: func(send func([]byte) error) error {
			var data []byte
			err := feed(func(row [][]byte) error {
				data = appendCopyText(data, row)
				if len(data) >= copyFlushSize {
					if err := send(data); err != nil {
						return err
					}
					data = data[:0]
				}
				return nil
			})
			if err != nil {
				return err
			}
			if len(data) > 0 {
				return send(data)
			}
			return nil
		},
	})
	return err
}

// appendCopyText appends a row in COPY's default text format (tab-separated,
// \N for NULL).
func appendCopyText(dst []byte, row [][]byte) []byte {
	return copytext.AppendRow(dst, row, '\t', `\N`)
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
