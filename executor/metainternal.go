package executor

import (
	"context"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/pgfed/pgfed/wire"
)

// The names of the session's own statement and portal on the metadata
// connection. No client names a statement with a control character, so
// they never collide with the client's; the client's unnamed statement and
// portal are left alone.
const (
	internalStmt   = "\x01pgfed-internal"
	internalPortal = "\x01pgfed-internal"
)

// internalQuery is one statement the session runs on the metadata
// connection on its own behalf (intermediate results, combine queries,
// the Citus API's catalog reads), inside the client's current
// transaction.
type internalQuery struct {
	sql           string
	params        [][]byte
	paramFormats  []int16
	resultFormats []int16
	// fields receives the RowDescription (nil for NoData), if set.
	fields func(f []pgproto3.FieldDescription) error
	// row receives each DataRow, valid until the next message, if set.
	row func(r *pgproto3.DataRow) error
	// copyIn, for COPY ... FROM STDIN, writes the data with send.
	copyIn func(send func(data []byte) error) error
	// notices forwards the backend's notices to the client (for the
	// statements the client asked for, like combine queries).
	notices bool
}

// internal runs q with the extended protocol under the session's own
// statement and portal names and a Flush, not a Sync: it joins the
// backend's current transaction (the client's block, or the implicit
// transaction that the session's next Sync ends). It returns the command
// tag. An error leaves the backend skipping to Sync, as for the client's
// own statements, and is returned with every field of the ErrorResponse.
func (m *metadataConn) internal(ctx context.Context, q internalQuery) (string, error) {
	if err := m.begin(ctx); err != nil {
		return "", err
	}
	defer m.finish()
	m.fe.SendParse(&pgproto3.Parse{Name: internalStmt, Query: q.sql})
	m.fe.SendBind(&pgproto3.Bind{DestinationPortal: internalPortal, PreparedStatement: internalStmt,
		ParameterFormatCodes: q.paramFormats, Parameters: q.params, ResultFormatCodes: q.resultFormats})
	m.fe.SendDescribe(&pgproto3.Describe{ObjectType: 'P', Name: internalPortal})
	m.fe.SendExecute(&pgproto3.Execute{Portal: internalPortal})
	closes := func() {
		m.fe.SendClose(&pgproto3.Close{ObjectType: 'P', Name: internalPortal})
		m.fe.SendClose(&pgproto3.Close{ObjectType: 'S', Name: internalStmt})
		m.unacked += 2
	}
	if q.copyIn == nil {
		closes()
	}
	m.fe.Send(&pgproto3.Flush{})
	m.inBatch = true
	if err := m.flush(); err != nil {
		return "", err
	}
	var cbErr error
	for {
		msg, err := m.receive()
		if err != nil {
			return "", err
		}
		switch msg := msg.(type) {
		case *pgproto3.ParseComplete, *pgproto3.BindComplete:
		case *pgproto3.RowDescription:
			if q.fields != nil && cbErr == nil {
				cbErr = q.fields(msg.Fields)
			}
		case *pgproto3.NoData:
			if q.fields != nil && cbErr == nil {
				cbErr = q.fields(nil)
			}
		case *pgproto3.DataRow:
			if q.row != nil && cbErr == nil {
				cbErr = q.row(msg)
			}
		case *pgproto3.CopyInResponse:
			if q.copyIn == nil {
				m.fe.Send(&pgproto3.CopyFail{Message: "pgfed: unexpected COPY FROM STDIN"})
			} else if err := m.internalCopy(q.copyIn); err != nil {
				if m.broken != nil {
					return "", m.broken
				}
				cbErr = err
			}
			closes()
			m.fe.Send(&pgproto3.Flush{})
			if err := m.flush(); err != nil {
				return "", err
			}
		case *pgproto3.CommandComplete:
			return string(msg.CommandTag), cbErr
		case *pgproto3.EmptyQueryResponse:
			return "", cbErr
		case *pgproto3.ErrorResponse:
			m.aborted = true
			// The backend skips the Close messages until Sync: send them
			// again with the next request.
			m.deferClose('P', internalPortal)
			m.deferClose('S', internalStmt)
			if cbErr != nil {
				return "", cbErr
			}
			return "", backendError(msg)
		case *pgproto3.NoticeResponse:
			if q.notices {
				m.notify(msg)
			}
		case *pgproto3.ParameterStatus, *pgproto3.NotificationResponse:
			m.notify(msg)
		default:
			return "", m.violation("in the session's own statement", msg)
		}
	}
}

// internalCopy sends the COPY data produced by fn, then CopyDone, or
// CopyFail when fn fails (whose error is returned; the backend answers
// with an ErrorResponse).
func (m *metadataConn) internalCopy(fn func(send func([]byte) error) error) error {
	pending := 0
	err := fn(func(data []byte) error {
		m.fe.Send(&pgproto3.CopyData{Data: data})
		pending += len(data) + 5
		if pending >= copyFlushSize {
			pending = 0
			return m.flush()
		}
		return nil
	})
	if err != nil {
		m.fe.Send(&pgproto3.CopyFail{Message: "pgfed: " + err.Error()})
		return err
	}
	m.fe.Send(&pgproto3.CopyDone{})
	return nil
}

// endBatch ends what the session sent on its own during a simple Query
// (intermediate results, combine queries): a Sync, so that the implicit
// transaction commits (or, after an error, rolls back) and the backend is
// ready for the next Query. It returns an error the backend reports at
// Sync.
func (m *metadataConn) endBatch(ctx context.Context) error {
	if !m.inBatch && !m.aborted {
		return nil
	}
	return m.sync(ctx)
}

// check returns the error of a broken connection, noticing a break the
// idle listener saw; nil when the connection is usable.
func (m *metadataConn) check() *wire.Error {
	m.stopListening()
	if m.broken != nil {
		return m.broken
	}
	if !m.inBatch {
		m.listen()
	}
	return nil
}

// param returns one of the backend's reported parameters.
func (m *metadataConn) param(name string) string {
	m.paramsMu.Lock()
	defer m.paramsMu.Unlock()
	return m.params[name]
}
