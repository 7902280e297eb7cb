package executor

import (
	"context"
	"strconv"
	"strings"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgtype"
	pg "github.com/pganalyze/pg_query_go/v5"

	"github.com/pgfed/pgfed/executor/citus"
	"github.com/pgfed/pgfed/wire"
)

// prepareCitusQuery handles the Parse of a query for the Citus API (a
// function call or a view read; pgJDBC sends everything this way, and
// drivers pass the table name as $1). The text citus.Describe gives is
// prepared on the metadata database under the client's name, which
// describes the parameters and the result columns and keeps PostgreSQL's
// naming rules; the query itself runs at Execute with the bound values
// (executeCitusQuery).
func (s *Session) prepareCitusQuery(ctx context.Context, name, sql string, stmt *pg.RawStmt, paramOIDs []uint32) (any, wire.StatementDescription, error) {
	text, err := citus.Describe(ctx, s.citusEnv(), stmt)
	if err != nil {
		return nil, wire.StatementDescription{}, clientError(s.distributedResult(ctx, err))
	}
	st, desc, err := s.meta.prepare(ctx, name, text, paramOIDs)
	if err != nil {
		return nil, desc, err
	}
	return &citusStatement{sql: sql, stmt: stmt, meta: st, desc: desc}, desc, nil
}

// executeCitusQuery runs a portal of a Citus API query: its parameters
// become literals of their declared types in the statement, which
// citus.Run runs; the rows are sent in the formats the portal asked for.
// With a row limit the result is kept in the portal and handed out
// opts.MaxRows rows at a time.
func (s *Session) executeCitusQuery(ctx context.Context, h *citusStatement, p *wire.Portal, opts wire.ExecuteOptions, r wire.Results) (bool, error) {
	if dp, ok := p.State.(*distPortal); ok {
		return s.servePortal(dp, opts, r)
	}
	if opts.MaxRows == 0 {
		return false, s.runCitusQuery(ctx, h, p, r)
	}
	dp := &distPortal{}
	if err := s.runCitusQuery(ctx, h, p, portalBuffer{r, dp}); err != nil {
		return false, err
	}
	p.State = dp
	return s.servePortal(dp, opts, r)
}

// portalBuffer keeps a result's rows and tag in a distPortal and relays
// the other messages (notices).
type portalBuffer struct {
	wire.Results
	dp *distPortal
}

// Send keeps or relays a message.
func (b portalBuffer) Send(msg pgproto3.BackendMessage) error {
	switch m := msg.(type) {
	case *pgproto3.DataRow:
		b.dp.rows = append(b.dp.rows, copyRow(m.Values))
		return nil
	case *pgproto3.CommandComplete:
		b.dp.tag = string(m.CommandTag)
		return nil
	}
	return b.Results.Send(msg)
}

// runCitusQuery binds and runs a Citus API query (executeCitusQuery).
func (s *Session) runCitusQuery(ctx context.Context, h *citusStatement, p *wire.Portal, r wire.Results) error {
	names, err := s.paramTypeNames(ctx, h)
	if err != nil {
		return err
	}
	types := pgtype.NewMap()
	vals := make([]*string, len(p.Params))
	b := &binding{params: p.Params, paramFormats: p.ParamFormats}
	for i, v := range p.Params {
		if v == nil {
			continue
		}
		if b.paramFormat(i) == 1 {
			oid := uint32(0)
			if i < len(h.desc.ParamOIDs) {
				oid = h.desc.ParamOIDs[i]
			}
			if v, err = convertFormat(types, oid, 1, 0, v); err != nil {
				return err
			}
		}
		text := string(v)
		vals[i] = &text
	}
	bound, err := citus.BindParams(h.stmt, vals, names)
	if err != nil {
		return err
	}
	sql, err := pg.Deparse(&pg.ParseResult{Stmts: []*pg.RawStmt{bound}})
	if err != nil {
		return internalError("deparse a Citus API query: %v", err)
	}
	return s.runCitus(ctx, sql, bound, &citusRows{Results: r, types: types, fields: h.desc.Fields, formats: p.ResultFormats})
}

// paramTypeNames returns the names of a statement's parameter types, as
// the metadata database spells them (format_type), read once.
func (s *Session) paramTypeNames(ctx context.Context, h *citusStatement) ([]string, error) {
	if h.typeNames != nil || len(h.desc.ParamOIDs) == 0 {
		return h.typeNames, nil
	}
	oids := make([]string, len(h.desc.ParamOIDs))
	for i, o := range h.desc.ParamOIDs {
		oids[i] = strconv.FormatUint(uint64(o), 10)
	}
	rows, err := metaQuerier{s}.Query(ctx, "SELECT CASE WHEN o = 0 THEN '' ELSE format_type(o, NULL) END FROM unnest('{"+
		strings.Join(oids, ",")+"}'::oid[]) WITH ORDINALITY AS t(o, n) ORDER BY n")
	if err != nil {
		return nil, err
	}
	names := make([]string, len(rows.Values))
	for i, v := range rows.Values {
		names[i] = string(v[0])
	}
	h.typeNames = names
	return names, nil
}

// convertFormat converts a value of type oid from one format to another
// (0 text, 1 binary), for the types pgx knows.
// A pgtype.Map is not safe for concurrent use: each statement has its own.
func convertFormat(typeMap *pgtype.Map, oid uint32, from, to int16, v []byte) ([]byte, error) {
	if v == nil || from == to {
		return v, nil
	}
	t, ok := typeMap.TypeForOID(oid)
	if !ok {
		return nil, &wire.Error{Code: pgerrcode.FeatureNotSupported,
			Message: "values of type " + strconv.FormatUint(uint64(oid), 10) + " are only supported in the text format here"}
	}
	val, err := t.Codec.DecodeValue(typeMap, oid, from, v)
	if err != nil {
		return nil, &wire.Error{Code: pgerrcode.InvalidBinaryRepresentation, Message: err.Error()}
	}
	out, err := typeMap.Encode(oid, to, val, nil)
	if err != nil {
		return nil, &wire.Error{Code: pgerrcode.InvalidBinaryRepresentation, Message: err.Error()}
	}
	return out, nil
}

// citusRows relays a Citus API query's answer to a portal: the extended
// protocol describes at Describe, so the RowDescription is dropped, and
// the values (text) are converted to the formats the portal asked for.
type citusRows struct {
	wire.Results
	types   *pgtype.Map
	fields  []pgproto3.FieldDescription
	formats []int16
}

// Send relays a message.
func (r *citusRows) Send(msg pgproto3.BackendMessage) error {
	switch m := msg.(type) {
	case *pgproto3.RowDescription:
		return nil
	case *pgproto3.DataRow:
		for i, v := range m.Values {
			f := resultFormat(r.formats, i)
			if f == 0 || i >= len(r.fields) {
				continue
			}
			out, err := convertFormat(r.types, r.fields[i].DataTypeOID, 0, f, v)
			if err != nil {
				return err
			}
			m.Values[i] = out
		}
	}
	return r.Results.Send(msg)
}

// resultFormat returns the format of result column i.
func resultFormat(formats []int16, i int) int16 {
	switch {
	case len(formats) == 1:
		return formats[0]
	case i < len(formats):
		return formats[i]
	}
	return 0
}
