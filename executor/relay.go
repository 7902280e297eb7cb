package executor

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/pgfed/pgfed/wire"
)

// copyFlushSize is how much COPY data is buffered before it is written to
// the backend.
const copyFlushSize = 64 << 10

// metaStatement is the handle of a statement prepared on the metadata
// database, under the client's own name.
type metaStatement struct {
	name string
	// routineDDL is set when the statement may create, replace, alter or
	// drop a function: executing it makes the session reload the
	// functions reading distributed tables (functionguard.go).
	routineDDL bool
}

// metaPortal is the Portal.State of a portal bound on the metadata database.
type metaPortal struct{}

// simpleQuery sends a Query and relays the answer to ReadyForQuery.
func (m *metadataConn) simpleQuery(ctx context.Context, sql string, r wire.Results) error {
	if err := m.begin(ctx); err != nil {
		return err
	}
	defer m.finish()
	m.fe.SendQuery(&pgproto3.Query{String: sql})
	if err := m.flush(); err != nil {
		return err
	}
	_, err := m.relay(r, relayQuery)
	return err
}

// prepare sends Parse and Describe for the statement and reads its
// description. An error leaves the backend skipping to Sync, as the wire
// server leaves the client.
func (m *metadataConn) prepare(ctx context.Context, name, sql string, paramOIDs []uint32) (*metaStatement, wire.StatementDescription, error) {
	var desc wire.StatementDescription
	if err := m.begin(ctx); err != nil {
		return nil, desc, err
	}
	defer m.finish()
	m.fe.SendParse(&pgproto3.Parse{Name: name, Query: sql, ParameterOIDs: paramOIDs})
	m.fe.SendDescribe(&pgproto3.Describe{ObjectType: 'S', Name: name})
	m.fe.Send(&pgproto3.Flush{})
	m.inBatch = true
	if err := m.flush(); err != nil {
		return nil, desc, err
	}
	for {
		msg, err := m.receive()
		if err != nil {
			return nil, desc, err
		}
		switch msg := msg.(type) {
		case *pgproto3.ParseComplete:
		case *pgproto3.ParameterDescription:
			desc.ParamOIDs = slices.Clone(msg.ParameterOIDs)
			if desc.ParamOIDs == nil {
				desc.ParamOIDs = []uint32{}
			}
		case *pgproto3.RowDescription:
			desc.Fields = cloneFields(msg.Fields)
			return &metaStatement{name: name}, desc, nil
		case *pgproto3.NoData:
			return &metaStatement{name: name}, desc, nil
		case *pgproto3.ErrorResponse:
			m.aborted = true
			return nil, desc, backendError(msg)
		case *pgproto3.NoticeResponse, *pgproto3.ParameterStatus, *pgproto3.NotificationResponse:
			m.notify(msg)
		default:
			return nil, desc, m.violation("while preparing a statement", msg)
		}
	}
}

// cloneFields deep-copies a RowDescription's fields, whose names point into
// the read buffer.
func cloneFields(fields []pgproto3.FieldDescription) []pgproto3.FieldDescription {
	out := make([]pgproto3.FieldDescription, len(fields))
	for i, f := range fields {
		out[i] = f
		out[i].Name = slices.Clone(f.Name)
	}
	return out
}

// execute binds p on its first use and executes it. With opts.SyncFollows
// the Sync goes out too and the answer is read to ReadyForQuery, so that
// the following sync costs nothing.
func (m *metadataConn) execute(ctx context.Context, st *metaStatement, p *wire.Portal, opts wire.ExecuteOptions, r wire.Results) (bool, error) {
	if err := m.begin(ctx); err != nil {
		return false, err
	}
	defer m.finish()
	if p.State == nil {
		m.fe.SendBind(&pgproto3.Bind{
			DestinationPortal:    p.Name,
			PreparedStatement:    st.name,
			ParameterFormatCodes: p.ParamFormats,
			Parameters:           p.Params,
			ResultFormatCodes:    p.ResultFormats,
		})
		p.State = metaPortal{}
	}
	m.fe.SendExecute(&pgproto3.Execute{Portal: p.Name, MaxRows: opts.MaxRows})
	if opts.SyncFollows {
		m.fe.SendSync(&pgproto3.Sync{})
	} else {
		m.fe.Send(&pgproto3.Flush{})
	}
	m.inBatch = true
	if err := m.flush(); err != nil {
		return false, err
	}
	mode := relayExecute
	if opts.SyncFollows {
		mode = relayExecuteSync
	}
	return m.relay(r, mode)
}

// sync ends an extended-protocol batch on the backend, unless nothing was
// sent since its last ReadyForQuery (an Execute with SyncFollows already
// synced). An error the backend reports at Sync (a deferred constraint at
// the implicit commit, say) is returned.
func (m *metadataConn) sync(ctx context.Context) error {
	m.stopListening()
	if m.broken != nil {
		return m.broken
	}
	if !m.inBatch && !m.aborted {
		m.finish()
		return nil
	}
	m.watch(ctx)
	defer m.finish()
	return m.syncBackend()
}

// syncBackend sends Sync (after the deferred closes when the backend is not
// skipping) and reads to ReadyForQuery. Asynchronous messages go to the
// client through Notify.
func (m *metadataConn) syncBackend() error {
	m.sendCloses()
	m.fe.SendSync(&pgproto3.Sync{})
	if err := m.flush(); err != nil {
		return err
	}
	var stmtErr error
	for {
		msg, err := m.receive()
		if err != nil {
			return err
		}
		switch msg := msg.(type) {
		case *pgproto3.ReadyForQuery:
			return stmtErr
		case *pgproto3.ErrorResponse:
			if stmtErr == nil {
				stmtErr = backendError(msg)
			}
		case *pgproto3.NoticeResponse, *pgproto3.ParameterStatus, *pgproto3.NotificationResponse:
			m.notify(msg)
		default:
			return m.violation("at sync", msg)
		}
	}
}

// closeStatement defers a Close of the statement to the next request. The
// unnamed statement needs none: the backend replaces it with the next Parse
// of "" and drops it at the next Query, exactly when the wire server does.
func (m *metadataConn) closeStatement(st *metaStatement) {
	if st.name != "" {
		m.deferClose('S', st.name)
	}
}

// closePortal defers a Close of the portal to the next request, if it was
// bound on the backend and may still exist there: protocol portals die with
// their transaction, so none exists while the backend is idle outside a
// transaction block (which is when the wire server drops its portals).
func (m *metadataConn) closePortal(p *wire.Portal) {
	if _, ok := p.State.(metaPortal); !ok {
		return
	}
	if !m.inBatch && !m.aborted && m.txStatus == 'I' {
		return
	}
	m.deferClose('P', p.Name)
}

// relayMode says what was sent, and so how far relay reads the answer.
type relayMode uint8

const (
	// relayQuery: a Query; the answer ends with ReadyForQuery.
	relayQuery relayMode = iota
	// relayExecute: an Execute and a Flush; the answer ends with the
	// Execute's CommandComplete, EmptyQueryResponse, PortalSuspended or
	// ErrorResponse.
	relayExecute
	// relayExecuteSync: an Execute and a Sync; the answer ends with
	// ReadyForQuery.
	relayExecuteSync
)

// String returns the mode's name.
func (m relayMode) String() string {
	switch m {
	case relayQuery:
		return "query"
	case relayExecute:
		return "execute"
	case relayExecuteSync:
		return "execute+sync"
	default:
		return fmt.Sprintf("relayMode(%d)", uint8(m))
	}
}

// relay forwards the backend's answer to r, reading as far as mode says, and
// returns the first error the backend reported. Results already relayed
// stay relayed, in the order PostgreSQL sends them. If the client cannot be
// written to, the statement is canceled, the backend is still read to the
// end so that it stays in step, and the write error is returned.
func (m *metadataConn) relay(r wire.Results, mode relayMode) (suspended bool, err error) {
	toReady := mode != relayExecute
	var stmtErr, clientErr error
	send := func(msg pgproto3.BackendMessage) {
		if clientErr != nil {
			return
		}
		if clientErr = r.Send(msg); clientErr != nil {
			m.log.Debug("cannot send results to the client; canceling", "error", clientErr)
			m.cancelRunning()
		}
	}
	result := func() error {
		if clientErr != nil {
			return clientErr
		}
		return stmtErr
	}
	for {
		msg, err := m.receive()
		if err != nil {
			return false, err
		}
		switch msg := msg.(type) {
		case *pgproto3.ReadyForQuery:
			return suspended, result()
		case *pgproto3.BindComplete:
		case *pgproto3.CommandComplete, *pgproto3.EmptyQueryResponse:
			send(msg)
			if !toReady {
				return false, result()
			}
		case *pgproto3.PortalSuspended:
			suspended = true
			if !toReady {
				return true, result()
			}
		case *pgproto3.ErrorResponse:
			if stmtErr == nil {
				stmtErr = backendError(msg)
			}
			if !toReady {
				m.aborted = true
				return false, result()
			}
		case *pgproto3.CopyInResponse:
			send(msg)
			if err := m.copyIn(r, clientErr != nil); err != nil && clientErr == nil {
				clientErr = err
			}
			if mode == relayExecuteSync && m.broken == nil {
				// The backend ignores Sync in copy-in mode, so the
				// Sync sent with the Execute was dropped; it needs
				// another to end the batch.
				m.fe.SendSync(&pgproto3.Sync{})
				m.flush()
			}
			if m.broken != nil {
				return false, m.broken
			}
		case *pgproto3.RowDescription, *pgproto3.DataRow, *pgproto3.NoticeResponse,
			*pgproto3.ParameterStatus, *pgproto3.NotificationResponse,
			*pgproto3.CopyOutResponse, *pgproto3.CopyData, *pgproto3.CopyDone:
			send(msg)
		default:
			return false, m.violation("in a statement's results", msg)
		}
	}
}

// copyIn pumps the client's COPY data to the backend until CopyDone or
// CopyFail. When the client cannot be read (or clientGone says it cannot
// be written either) the backend gets a CopyFail, so that it ends the COPY
// with an error and goes on to ReadyForQuery; the client's error is
// returned. A write failure breaks the connection (m.broken).
func (m *metadataConn) copyIn(r wire.Results, clientGone bool) error {
	if clientGone {
		m.fe.Send(&pgproto3.CopyFail{Message: "pgfed: the client connection failed"})
		m.flush()
		return nil
	}
	pending := 0
	for {
		msg, err := r.ReceiveCopy()
		if err != nil {
			m.fe.Send(&pgproto3.CopyFail{Message: "pgfed: cannot read COPY data from the client: " + err.Error()})
			m.flush()
			return err
		}
		switch msg := msg.(type) {
		case *pgproto3.CopyData:
			m.fe.Send(msg)
			pending += len(msg.Data) + 5
			if pending >= copyFlushSize {
				if err := m.flush(); err != nil {
					return err
				}
				pending = 0
			}
		case *pgproto3.CopyDone, *pgproto3.CopyFail:
			m.fe.Send(msg)
			return m.flush()
		default:
			m.fe.Send(&pgproto3.CopyFail{Message: "pgfed: unexpected message during COPY"})
			m.flush()
			return internalError("unexpected %T from the client during COPY", msg)
		}
	}
}

// violation breaks the connection after an unexpected message.
func (m *metadataConn) violation(what string, msg pgproto3.BackendMessage) error {
	if m.broken == nil {
		m.broken = protocolViolation(what, msg)
		m.log.Error("protocol violation by the metadata database", "error", m.broken.Message)
		m.conn.Close()
	}
	return m.broken
}

// abortPortal names a portal no client creates: executing it makes the
// backend report an error and so abort its transaction.
const abortPortal = "\x01pgfed-abort"

// abort makes the backend abort its transaction, as PostgreSQL does when
// the wire server rejects a message of a batch itself (see
// wire.Session.Abort): it executes a portal that does not exist, so the
// backend reports an error, which is expected and not relayed, and skips to
// Sync. The following Sync then rolls back an implicit transaction and
// leaves a transaction block failed. Nothing is done when the backend
// already skips to Sync.
func (m *metadataConn) abort(ctx context.Context) error {
	if m.aborted {
		return nil
	}
	if err := m.begin(ctx); err != nil {
		return err
	}
	defer m.finish()
	m.fe.SendExecute(&pgproto3.Execute{Portal: abortPortal})
	m.fe.Send(&pgproto3.Flush{})
	m.inBatch = true
	if err := m.flush(); err != nil {
		return err
	}
	for {
		msg, err := m.receive()
		if err != nil {
			return err
		}
		switch msg := msg.(type) {
		case *pgproto3.ErrorResponse:
			m.aborted = true
			return nil
		case *pgproto3.NoticeResponse, *pgproto3.ParameterStatus, *pgproto3.NotificationResponse:
			m.notify(msg)
		default:
			return m.violation("aborting the transaction", msg)
		}
	}
}
