package executor

import (
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/pgfed/pgfed/wire"
)

// A transaction block often touches only distributed tables: BEGIN,
// statements on the workers, COMMIT. The metadata database has nothing to
// do in it, yet passing BEGIN and COMMIT through costs it two round trips.
// So a BEGIN received with the simple query protocol outside a block is
// answered by the session, and kept in metadataConn.pendingBegin; the
// first request that needs the metadata connection inside the block sends
// it first (flushPendingBegin). A COMMIT or ROLLBACK that finds it still
// pending ends the block without the metadata database.

// deferBegin answers a client's BEGIN itself, leaving the metadata
// database's BEGIN for the next request that needs it.
func (s *Session) deferBegin(sql string, r wire.Results) error {
	s.meta.pendingBegin = sql
	return r.Send(&pgproto3.CommandComplete{CommandTag: []byte("BEGIN")})
}

// endDeferred ends a block whose BEGIN never reached the metadata
// database, answering the client's COMMIT or ROLLBACK with tag.
func (s *Session) endDeferred(tag string, r wire.Results) error {
	s.meta.pendingBegin = ""
	return r.Send(&pgproto3.CommandComplete{CommandTag: []byte(tag)})
}

// flushPendingBegin sends the pending BEGIN as the session's own
// statement (its answer is not relayed) and reads its answer, inside a
// request (see begin).
func (m *metadataConn) flushPendingBegin() error {
	sql := m.pendingBegin
	m.pendingBegin = ""
	m.fe.SendParse(&pgproto3.Parse{Name: internalStmt, Query: sql})
	m.fe.SendBind(&pgproto3.Bind{DestinationPortal: internalPortal, PreparedStatement: internalStmt})
	m.fe.SendExecute(&pgproto3.Execute{Portal: internalPortal})
	m.fe.SendClose(&pgproto3.Close{ObjectType: 'P', Name: internalPortal})
	m.fe.SendClose(&pgproto3.Close{ObjectType: 'S', Name: internalStmt})
	m.unacked += 2
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
		case *pgproto3.ParseComplete, *pgproto3.BindComplete:
		case *pgproto3.CommandComplete:
			return nil
		case *pgproto3.ErrorResponse:
			m.aborted = true
			m.deferClose('P', internalPortal)
			m.deferClose('S', internalStmt)
			return backendError(msg)
		case *pgproto3.NoticeResponse, *pgproto3.ParameterStatus, *pgproto3.NotificationResponse:
			m.notify(msg)
		default:
			return m.violation("beginning the transaction block", msg)
		}
	}
}
