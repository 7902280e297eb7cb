package wire

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/jackc/pgerrcode"
	"github.com/jackc/pgx/v5/pgproto3"
)

// extended is the extended-query state of a connection: the client's
// prepared statements and portals, and whether an error makes the server
// skip messages until Sync.
type extended struct {
	stmts   map[string]*Statement
	portals map[string]*Portal
	skip    bool
}

func (e *extended) init() {
	e.stmts = make(map[string]*Statement)
	e.portals = make(map[string]*Portal)
}

// ResultFormat returns the format code (0 text, 1 binary) of result column
// i, applying the protocol's rule: no codes means all text, one code
// applies to every column.
func (p *Portal) ResultFormat(i int) int16 { return formatCode(p.ResultFormats, i) }

// ParamFormat returns the format code (0 text, 1 binary) of parameter i,
// with the same rule as ResultFormat.
func (p *Portal) ParamFormat(i int) int16 { return formatCode(p.ParamFormats, i) }

func formatCode(codes []int16, i int) int16 {
	switch {
	case len(codes) == 0:
		return 0
	case len(codes) == 1:
		return codes[0]
	case i < len(codes):
		return codes[i]
	default:
		return 0
	}
}

// extError reports err from an extended-protocol message and starts
// skipping until Sync. The ErrorResponse is flushed at once, as PostgreSQL
// does: a client that sent Flush, not Sync, waits for it (asyncpg after a
// Parse, node-postgres's cursors after an Execute).
func (c *conn) extError(err error) error {
	c.ext.skip = true
	if err := c.report(err); err != nil {
		return err
	}
	return c.w.flush()
}

// reject reports an error the server found itself in an extended-protocol
// message (an unknown statement or portal, a malformed Bind...): the session
// did not see it, so it is told to abort its transaction, as PostgreSQL
// aborts on any error in a batch; then the server skips until Sync.
func (c *conn) reject(ctx context.Context, err error) error {
	c.sess.Abort(ctx, err)
	return c.extError(err)
}

// parse handles Parse.
func (c *conn) parse(ctx context.Context, m *pgproto3.Parse) error {
	// The unnamed statement is replaced. A named one the server still
	// holds may have been dropped by SQL (DEALLOCATE, DISCARD ALL), which
	// only the session sees: the session decides whether the name is free
	// (see Session.Prepare), and on success the old entry is forgotten.
	if old, ok := c.ext.stmts[m.Name]; ok && m.Name == "" {
		c.closeStatement(ctx, old)
	}
	oids := slices.Clone(m.ParameterOIDs)
	handle, desc, err := c.sess.Prepare(ctx, m.Name, m.Query, oids)
	if err != nil {
		return c.extError(err)
	}
	c.ext.stmts[m.Name] = &Statement{Name: m.Name, SQL: m.Query, Desc: desc, Handle: handle}
	return c.w.send(&pgproto3.ParseComplete{})
}

// bind handles Bind.
func (c *conn) bind(ctx context.Context, m *pgproto3.Bind) error {
	st, ok := c.ext.stmts[m.PreparedStatement]
	if !ok {
		msg := fmt.Sprintf("prepared statement %q does not exist", m.PreparedStatement)
		if m.PreparedStatement == "" {
			msg = "unnamed prepared statement does not exist"
		}
		return c.reject(ctx, &Error{Code: pgerrcode.InvalidSQLStatementName, Message: msg})
	}
	if old, ok := c.ext.portals[m.DestinationPortal]; ok {
		if m.DestinationPortal != "" {
			return c.reject(ctx, &Error{Code: pgerrcode.DuplicateCursor, Message: fmt.Sprintf("cursor %q already exists", m.DestinationPortal)})
		}
		c.closePortal(ctx, old)
	}
	if err := checkBind(m, st); err != nil {
		return c.reject(ctx, err)
	}
	params := make([][]byte, len(m.Parameters))
	for i, p := range m.Parameters {
		if p != nil {
			params[i] = slices.Clone(p)
			if params[i] == nil {
				params[i] = []byte{}
			}
		}
	}
	c.ext.portals[m.DestinationPortal] = &Portal{
		Name:          m.DestinationPortal,
		Statement:     st,
		ParamFormats:  slices.Clone(m.ParameterFormatCodes),
		Params:        params,
		ResultFormats: slices.Clone(m.ResultFormatCodes),
	}
	return c.w.send(&pgproto3.BindComplete{})
}

// checkBind checks a Bind against its statement as PostgreSQL does.
func checkBind(m *pgproto3.Bind, st *Statement) error {
	nparams := len(m.Parameters)
	if n := len(m.ParameterFormatCodes); n > 1 && n != nparams {
		return &Error{Code: pgerrcode.ProtocolViolation, Message: fmt.Sprintf("bind message has %d parameter formats but %d parameters", n, nparams)}
	}
	if want := len(st.Desc.ParamOIDs); nparams != want {
		return &Error{Code: pgerrcode.ProtocolViolation, Message: fmt.Sprintf("bind message supplies %d parameters, but prepared statement %q requires %d", nparams, st.Name, want)}
	}
	for _, f := range m.ParameterFormatCodes {
		if f != 0 && f != 1 {
			return &Error{Code: pgerrcode.InvalidParameterValue, Message: fmt.Sprintf("unsupported format code: %d", f)}
		}
	}
	for _, f := range m.ResultFormatCodes {
		if f != 0 && f != 1 {
			return &Error{Code: pgerrcode.InvalidParameterValue, Message: fmt.Sprintf("unsupported format code: %d", f)}
		}
	}
	if n, cols := len(m.ResultFormatCodes), len(st.Desc.Fields); st.Desc.Fields != nil && n > 1 && n != cols {
		return &Error{Code: pgerrcode.ProtocolViolation, Message: fmt.Sprintf("bind message has %d result formats but query has %d columns", n, cols)}
	}
	return nil
}

// describe handles Describe of a statement ('S') or a portal ('P').
func (c *conn) describe(ctx context.Context, m *pgproto3.Describe) error {
	switch m.ObjectType {
	case 'S':
		st, ok := c.ext.stmts[m.Name]
		if !ok {
			msg := fmt.Sprintf("prepared statement %q does not exist", m.Name)
			if m.Name == "" {
				msg = "unnamed prepared statement does not exist"
			}
			return c.reject(ctx, &Error{Code: pgerrcode.InvalidSQLStatementName, Message: msg})
		}
		oids := st.Desc.ParamOIDs
		if oids == nil {
			oids = []uint32{}
		}
		if err := c.w.send(&pgproto3.ParameterDescription{ParameterOIDs: oids}); err != nil {
			return err
		}
		return c.sendRowDescription(st.Desc.Fields, nil)
	case 'P':
		p, ok := c.ext.portals[m.Name]
		if !ok {
			if cs, ok := c.sess.(Cursors); ok {
				fields, err := cs.DescribeCursor(ctx, m.Name)
				if err != nil {
					return c.extError(err)
				}
				if fields == nil {
					return c.w.send(&pgproto3.NoData{})
				}
				return c.w.send(&pgproto3.RowDescription{Fields: fields})
			}
			return c.reject(ctx, &Error{Code: pgerrcode.InvalidCursorName, Message: fmt.Sprintf("portal %q does not exist", m.Name)})
		}
		return c.sendRowDescription(p.Statement.Desc.Fields, p)
	default:
		return c.reject(ctx, &Error{Code: pgerrcode.ProtocolViolation, Message: fmt.Sprintf("invalid DESCRIBE message subtype %d", m.ObjectType)})
	}
}

// sendRowDescription sends RowDescription for fields, with the portal's
// result formats applied when p is not nil, or NoData when fields is nil.
func (c *conn) sendRowDescription(fields []pgproto3.FieldDescription, p *Portal) error {
	if fields == nil {
		return c.w.send(&pgproto3.NoData{})
	}
	out := slices.Clone(fields)
	for i := range out {
		if p != nil {
			out[i].Format = p.ResultFormat(i)
		} else {
			out[i].Format = 0
		}
	}
	return c.w.send(&pgproto3.RowDescription{Fields: out})
}

// execute handles Execute.
func (c *conn) execute(ctx context.Context, m *pgproto3.Execute) error {
	p, ok := c.ext.portals[m.Portal]
	cs, cursors := c.sess.(Cursors)
	if !ok && !cursors {
		return c.reject(ctx, &Error{Code: pgerrcode.InvalidCursorName, Message: fmt.Sprintf("portal %q does not exist", m.Portal)})
	}
	opts := ExecuteOptions{MaxRows: m.MaxRows, SyncFollows: c.r.syncBuffered()}
	res := &results{c: c}
	var suspended bool
	var err error
	if ok {
		suspended, err = c.sess.Execute(ctx, p, opts, res)
	} else {
		suspended, err = cs.ExecuteCursor(ctx, m.Portal, opts, res)
	}
	if c.readErr != nil {
		return c.readErr
	}
	if err != nil {
		return c.extError(err)
	}
	if suspended {
		return c.w.send(&pgproto3.PortalSuspended{})
	}
	return nil
}

// closeMsg handles Close of a statement or a portal. Closing one that does
// not exist is not an error.
func (c *conn) closeMsg(ctx context.Context, m *pgproto3.Close) error {
	switch m.ObjectType {
	case 'S':
		if st, ok := c.ext.stmts[m.Name]; ok {
			if err := c.closeStatementErr(ctx, st); err != nil {
				return c.extError(err)
			}
		}
	case 'P':
		if p, ok := c.ext.portals[m.Name]; ok {
			if err := c.closePortalErr(ctx, p); err != nil {
				return c.extError(err)
			}
		} else if cs, ok := c.sess.(Cursors); ok {
			if err := cs.CloseCursor(ctx, m.Name); err != nil {
				return c.extError(err)
			}
		}
	default:
		return c.reject(ctx, &Error{Code: pgerrcode.ProtocolViolation, Message: fmt.Sprintf("invalid CLOSE message subtype %d", m.ObjectType)})
	}
	return c.w.send(&pgproto3.CloseComplete{})
}

// sync handles Sync: the session ends its implicit transaction, skipping
// stops, and ReadyForQuery goes out.
func (c *conn) sync(ctx context.Context) error {
	c.ext.skip = false
	if err := c.sess.Sync(ctx); err != nil {
		if err := c.report(err); err != nil {
			return err
		}
	}
	return c.readyForQuery(ctx)
}

// closeStatementErr forgets st and tells the session.
func (c *conn) closeStatementErr(ctx context.Context, st *Statement) error {
	delete(c.ext.stmts, st.Name)
	return c.sess.CloseStatement(ctx, st)
}

// closePortalErr forgets p and tells the session.
func (c *conn) closePortalErr(ctx context.Context, p *Portal) error {
	delete(c.ext.portals, p.Name)
	return c.sess.ClosePortal(ctx, p)
}

// closeStatement closes st implicitly (it was replaced); errors are logged.
func (c *conn) closeStatement(ctx context.Context, st *Statement) {
	if err := c.closeStatementErr(ctx, st); err != nil {
		c.log.Warn("closing statement failed", "statement", st.Name, "error", err)
	}
}

// closePortal closes p implicitly (replaced, or its transaction ended);
// errors are logged.
func (c *conn) closePortal(ctx context.Context, p *Portal) {
	if err := c.closePortalErr(ctx, p); err != nil {
		c.log.Warn("closing portal failed", "portal", p.Name, "error", err)
	}
}

// dropPortals closes every portal: the transaction they lived in ended.
func (c *conn) dropPortals(ctx context.Context) {
	for _, name := range slices.Sorted(maps.Keys(c.ext.portals)) {
		c.closePortal(ctx, c.ext.portals[name])
	}
}

// dropUnnamed closes the unnamed statement and portal, as a Query message
// does in PostgreSQL.
func (c *conn) dropUnnamed(ctx context.Context) {
	if p, ok := c.ext.portals[""]; ok {
		c.closePortal(ctx, p)
	}
	if st, ok := c.ext.stmts[""]; ok {
		c.closeStatement(ctx, st)
	}
}
